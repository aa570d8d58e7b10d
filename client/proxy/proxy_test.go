package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// fakeCatalog is a settable list of healthy instances of one service,
// with the real catalog's Watch, so the proxy's cache is exercised.
type fakeCatalog struct {
	mu      sync.Mutex
	addrs   []string
	changed chan struct{}
}

func (f *fakeCatalog) set(addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs = addrs
	if f.changed != nil {
		close(f.changed)
	}
	f.changed = make(chan struct{})
}

func (f *fakeCatalog) Watch() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

func (f *fakeCatalog) Healthy(name, tag, dc string) []structs.ServiceRegistration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []structs.ServiceRegistration
	for _, a := range f.addrs {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		out = append(out, structs.ServiceRegistration{ServiceName: name, Address: host, Port: p, Health: structs.HealthPassing})
	}
	return out
}

// backend is an HTTP instance that answers its name and what it saw.
type backend struct {
	name string
	srv  *httptest.Server
	// slow, when set, holds requests to /slow until it is closed.
	slow    chan struct{}
	arrived chan string
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name, slow: make(chan struct{}), arrived: make(chan string, 10)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			b.arrived <- name
			<-b.slow
		}
		fmt.Fprintf(w, "%s|%s|%s", name, r.Header.Get("X-Forwarded-For"), r.Header.Get("Forwarded"))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return b.srv.Listener.Addr().String() }

func startProxy(t *testing.T, cat Catalog, in structs.ServiceIngress) (*Proxy, string) {
	t.Helper()
	p, err := New(Config{Catalog: cat, BindAddr: "127.0.0.1", DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := p.Sync(map[string]structs.ServiceIngress{"api": in}); err != nil {
		t.Fatal(err)
	}
	return p, p.Addr("api").String()
}

// get returns which backend answered, and the headers it saw.
func get(t *testing.T, url string) (name, xff, forwarded string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	parts := strings.SplitN(string(body), "|", 3)
	return parts[0], parts[1], parts[2]
}

// closedAddr is an address that refuses connections.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestHTTPRoundRobinAlternatesAndKeepsTheClientAddress(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	cat := &fakeCatalog{}
	cat.set(a.addr(), b.addr())
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})

	var last string
	counts := map[string]int{}
	for i := range 10 {
		name, xff, forwarded := get(t, "http://"+addr+"/")
		if name == last {
			t.Fatalf("request %d went to %s twice in a row", i, name)
		}
		if xff != "127.0.0.1" || forwarded != "for=127.0.0.1;proto=http" {
			t.Fatalf("the backend saw X-Forwarded-For %q, Forwarded %q", xff, forwarded)
		}
		last = name
		counts[name]++
	}
	if counts["a"] != 5 || counts["b"] != 5 {
		t.Fatalf("round robin spread: %v", counts)
	}
}

func TestLeastConnPrefersTheIdleInstance(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	cat := &fakeCatalog{}
	cat.set(a.addr(), b.addr())
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http", Algorithm: "least_conn"})

	slowDone := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		slowDone <- err
	}()
	var busy string
	select {
	case busy = <-a.arrived:
	case busy = <-b.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request reached no backend")
	}
	for i := range 6 {
		if name, _, _ := get(t, "http://"+addr+"/"); name == busy {
			t.Fatalf("request %d went to the busy instance %s", i, busy)
		}
	}
	close(a.slow)
	close(b.slow)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
}

func TestUnhealthyInstanceGetsNoTraffic(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	cat := &fakeCatalog{}
	cat.set(a.addr())
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})
	for range 6 {
		if name, _, _ := get(t, "http://"+addr+"/"); name != "a" {
			t.Fatalf("traffic went to the unhealthy instance %s", name)
		}
	}
	// b turns healthy: it gets traffic, on the same listener.
	cat.set(a.addr(), b.addr())
	seen := map[string]bool{}
	for range 4 {
		name, _, _ := get(t, "http://"+addr+"/")
		seen[name] = true
	}
	if !seen["b"] {
		t.Fatal("the instance that turned healthy got no traffic")
	}
	// No instance at all: 503.
	cat.set()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("without instances: %s, want 503", resp.Status)
	}
}

func TestRefusingInstanceIsRetriedOnAnother(t *testing.T) {
	a := newBackend(t, "a")
	cat := &fakeCatalog{}
	cat.set(closedAddr(t), a.addr())
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})
	for i := range 6 {
		if name, _, _ := get(t, "http://"+addr+"/"); name != "a" {
			t.Fatalf("request %d: answered by %q", i, name)
		}
	}
}

// tcpBackend writes its name and the first line it reads (the PROXY header
// when there is one), then echoes.
func tcpBackend(t *testing.T, name string) string {
	t.Helper()
	return serveLoopback(t, func(conn net.Conn, _ int) {
		r := bufio.NewReader(conn)
		line, _ := r.ReadString('\n')
		fmt.Fprintf(conn, "%s %s", name, line)
	})
}

// serveLoopback listens on loopback until the test ends and serves each
// connection it accepts on a goroutine of its own: serve gets the
// connection and its number, from 1, and the connection is closed when
// serve returns. It returns the address.
func serveLoopback(tb testing.TB, serve func(conn net.Conn, n int)) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for n := 1; ; n++ {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				serve(conn, n)
			}()
		}
	}()
	return l.Addr().String()
}

func tcpRoundTrip(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "hello\n"); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	return string(reply)
}

func TestTCPBalancesAndRetries(t *testing.T) {
	cat := &fakeCatalog{}
	cat.set(closedAddr(t), tcpBackend(t, "a"), tcpBackend(t, "b"))
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "tcp"})
	counts := map[string]int{}
	for range 8 {
		reply := tcpRoundTrip(t, addr)
		name, rest, _ := strings.Cut(reply, " ")
		if rest != "hello\n" {
			t.Fatalf("reply %q", reply)
		}
		counts[name]++
	}
	if counts["a"] == 0 || counts["b"] == 0 || counts["a"]+counts["b"] != 8 {
		t.Fatalf("tcp spread: %v", counts)
	}
}

func TestTCPProxyProtocol(t *testing.T) {
	cat := &fakeCatalog{}
	cat.set(tcpBackend(t, "a"))
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "tcp", ProxyProtocol: true})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.TCPAddr)
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("a PROXY TCP4 127.0.0.1 127.0.0.1 %d %s\r\n", local.Port, addr[strings.LastIndex(addr, ":")+1:])
	if reply != want {
		t.Fatalf("the backend saw %q, want %q", reply, want)
	}
}

func TestSyncOpensAndClosesListeners(t *testing.T) {
	cat := &fakeCatalog{}
	p, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "tcp"})
	if err := p.Sync(map[string]structs.ServiceIngress{"api": {Protocol: "tcp", Algorithm: "round_robin"}}); err != nil {
		t.Fatal(err)
	}
	if got := p.Addr("api").String(); got != addr {
		t.Fatalf("an unchanged ingress was reopened: %s, was %s", got, addr)
	}
	err := p.Sync(map[string]structs.ServiceIngress{"bad": {Protocol: "udp"}})
	if err == nil || !strings.Contains(err.Error(), `service "bad": ingress: protocol must be tcp or http`) {
		t.Fatalf("invalid ingress: %v", err)
	}
	if p.Addr("api") != nil {
		t.Fatal("the removed ingress still listens")
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatal("the removed ingress still accepts connections")
	}
}
