package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// BenchmarkProxyVsDirect sends the same load (b.N requests from 16
// concurrent keep-alive clients) straight to two backends and through an
// http ingress balancing over them, and reports both throughputs, the
// p50/p99 latencies and the ratios (targets: throughput ≥ 0.8× direct,
// p99 ≤ 1.2× direct). Backends that answer at once make the figure a
// worst case: on one machine the load generator, the proxy and the
// backends share the CPU and the proxy doubles the system calls of each
// request; the backend-1ms case stands for an instance doing some work.
//
//	go test -run '^$' -bench ProxyVsDirect -benchtime 20000x ./client/proxy
func BenchmarkProxyVsDirect(b *testing.B) {
	cases := []struct {
		name      string
		algorithm string
		work      time.Duration // what the backend spends on a request
	}{
		{"round_robin", structs.IngressRoundRobin, 0},
		{"least_conn", structs.IngressLeastConn, 0},
		{"round_robin/backend-1ms", structs.IngressRoundRobin, time.Millisecond},
	}
	for _, c := range cases {
		algorithm := c.algorithm
		b.Run(c.name, func(b *testing.B) {
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.work > 0 {
					time.Sleep(c.work)
				}
				_, _ = io.WriteString(w, "ok")
			})
			one, two := httptest.NewServer(handler), httptest.NewServer(handler)
			defer one.Close()
			defer two.Close()
			cat := &fakeCatalog{}
			cat.set(one.Listener.Addr().String(), two.Listener.Addr().String())
			p, err := New(Config{Catalog: cat, BindAddr: "127.0.0.1"})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			if err := p.Sync(map[string]structs.ServiceIngress{"api": {Protocol: "http", Algorithm: algorithm}}); err != nil {
				b.Fatal(err)
			}

			// Direct: alternate between the two backends, as the proxy does.
			direct := load(b, b.N, func(i int64) string {
				if i%2 == 0 {
					return one.URL + "/"
				}
				return two.URL + "/"
			})
			proxied := load(b, b.N, func(int64) string { return "http://" + p.Addr("api").String() + "/" })

			b.ReportMetric(direct.rps, "direct-req/s")
			b.ReportMetric(proxied.rps, "proxy-req/s")
			b.ReportMetric(proxied.rps/direct.rps, "throughput-ratio")
			b.ReportMetric(float64(direct.p50.Microseconds()), "direct-p50-µs")
			b.ReportMetric(float64(proxied.p50.Microseconds()), "proxy-p50-µs")
			b.ReportMetric(float64(direct.p99.Microseconds()), "direct-p99-µs")
			b.ReportMetric(float64(proxied.p99.Microseconds()), "proxy-p99-µs")
			b.ReportMetric(float64(proxied.p99)/float64(max(direct.p99, 1)), "p99-ratio")
		})
	}
}

type loadResult struct {
	rps      float64
	p50, p99 time.Duration
}

// load sends n GET requests from 16 workers and measures them.
func load(b *testing.B, n int, url func(i int64) string) loadResult {
	b.Helper()
	const workers = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers * 2}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	latencies := make([]time.Duration, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(url(i))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						failed.Add(1)
					}
				}
				if err != nil {
					failed.Add(1)
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	slices.Sort(latencies)
	return loadResult{
		rps: float64(n) / elapsed.Seconds(),
		p50: latencies[n/2],
		p99: latencies[min(n-1, n*99/100)],
	}
}

// BenchmarkForward measures what one request costs the proxy: clients on
// kept-alive connections send a small GET through a tcp or http ingress to
// a backend answering at once, one request at a time per connection. The
// client and backend are raw loops that allocate nothing, so allocs/op is
// the proxy's; cpu-ns/op is the CPU time (user and system) of the whole
// process per request: compare it before and after a change, as wall-clock
// ns/op depends on what else runs on the machine.
//
//	go test -run '^$' -bench Forward -benchmem -count 6 ./client/proxy
func BenchmarkForward(b *testing.B) {
	for _, protocol := range []string{structs.IngressProtocolTCP, structs.IngressProtocolHTTP} {
		b.Run(protocol, func(b *testing.B) {
			backend := rawBackend(b)
			cat := &fakeCatalog{}
			cat.set(backend)
			p, err := New(Config{Catalog: cat, BindAddr: "127.0.0.1"})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			if err := p.Sync(map[string]structs.ServiceIngress{"api": {Protocol: protocol}}); err != nil {
				b.Fatal(err)
			}
			const clients = 8
			conns := make([]net.Conn, clients)
			for i := range conns {
				if conns[i], err = net.Dial("tcp", p.Addr("api").String()); err != nil {
					b.Fatal(err)
				}
				defer conns[i].Close()
				if err := rawGet(conns[i], make([]byte, 4096)); err != nil { // warm: connection to the backend
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPUTime()
			for _, conn := range conns {
				wg.Go(func() {
					buf := make([]byte, 4096)
					for next.Add(1) <= int64(b.N) {
						if err := rawGet(conn, buf); err != nil {
							failed.Store(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(processCPUTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// The bench's messages, as bytes: writing a string to a net.Conn would
// allocate a copy on every request.
var (
	rawRequestText  = []byte("GET /?work=0s HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\n\r\n")
	rawResponseBody = []byte(`{"version":"v1","hostname":"bench","alloc":"bench","requests":1}` + "\n")
	rawResponseText = []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 23 Nov 2026 16:00:00 GMT\r\n" +
		"Content-Length: " + strconv.Itoa(len(rawResponseBody)) + "\r\n\r\n" + string(rawResponseBody))
)

// rawGet sends one request on conn and reads until the answer's body has
// come (its headers may differ: the http ingress rewrites them).
func rawGet(conn net.Conn, buf []byte) error {
	if _, err := conn.Write(rawRequestText); err != nil {
		return err
	}
	n := 0
	for {
		m, err := conn.Read(buf[n:])
		if err != nil {
			return err
		}
		n += m
		if bytes.HasSuffix(buf[:n], rawResponseBody) {
			return nil
		}
		if n == len(buf) {
			return errors.New("answer too long")
		}
	}
}

// rawBackend answers every request of its connections with the same
// small JSON document, as the bench's backend does, without allocating.
func rawBackend(b *testing.B) string {
	b.Helper()
	return serveLoopback(b, func(conn net.Conn, _ int) {
		buf := make([]byte, 4096)
		n := 0
		for {
			m, err := conn.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
			// Requests come one at a time: answer each whole one.
			for {
				end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
				if end < 0 {
					break
				}
				if _, err := conn.Write(rawResponseText); err != nil {
					return
				}
				n = copy(buf, buf[end+4:n])
			}
		}
	})
}
