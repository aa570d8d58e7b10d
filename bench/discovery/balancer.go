package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/client/proxy"
	"github.com/drover-project/drover/structs"
)

// backendEnv starts this binary as the balancer section's backend.
const backendEnv = "DROVER_BENCH_DISCOVERY_BACKEND"

// wrkScript prints wrk's figures in one line, latencies in microseconds.
const wrkScript = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("DROVER-WRK %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	requests int64
	// CPU time this process (the proxy) and the backend spent per request.
	proxyCPU, backendCPU time.Duration
}

// benchBalancer runs wrk against a backend process with two listeners
// directly (one listener: the same process does the same work) and through
// an http and a tcp ingress over both, o.rounds times in a rotating order.
func benchBalancer(o options, progress io.Writer) ([]row, error) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return []row{{"balancer", "not measured: wrk is not installed (Debian: apt-get install wrk)", "", "MISSED"}},
			errors.New("wrk is not installed: install it (Debian: apt-get install wrk) for the balancer figures")
	}
	dir, err := os.MkdirTemp("", "drover-bench-discovery-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "report.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return nil, err
	}

	var works []time.Duration
	for _, w := range strings.Split(o.work, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(w))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("-work: %q is not a duration (e.g. 0,5ms)", w)
		}
		works = append(works, d)
	}
	modes := []string{"direct"}
	for _, m := range strings.Split(o.modes, ",") {
		switch m = strings.TrimSpace(m); m {
		case "http", "tcp", "haproxy":
			modes = append(modes, m)
		default:
			return nil, fmt.Errorf("-modes: unknown mode %q (want http, tcp or haproxy)", m)
		}
	}
	haproxy, err := exec.LookPath("haproxy")
	switch {
	case slices.Contains(modes, "haproxy") && err != nil:
		return nil, errors.New("-modes haproxy: haproxy is not installed (Debian: apt-get install haproxy)")
	case err == nil && o.haproxy && !slices.Contains(modes, "haproxy"):
		modes = append(modes, "haproxy")
	case err != nil:
		fmt.Fprintln(progress, "balancer: haproxy is not installed: no reference figures (Debian: apt-get install haproxy)")
	}

	backends, backendPID, stopBackend, err := startBackend()
	if err != nil {
		return nil, err
	}
	defer stopBackend()

	cat, err := catalog.New(catalog.Config{NodeID: "node-0", Datacenter: "dc1"})
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	for _, svc := range []string{"web-http", "web-tcp"} {
		for i, addr := range backends {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			p, _ := strconv.Atoi(port)
			if err := cat.Register(&structs.ServiceRegistration{ID: fmt.Sprintf("%s-%d", svc, i), ServiceName: svc, Address: host, Port: p}); err != nil {
				return nil, err
			}
		}
	}
	px, err := proxy.New(proxy.Config{Catalog: cat, BindAddr: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	defer px.Close()
	if err := px.Sync(map[string]structs.ServiceIngress{
		"web-http": {Protocol: structs.IngressProtocolHTTP, Algorithm: structs.IngressRoundRobin},
		"web-tcp":  {Protocol: structs.IngressProtocolTCP, Algorithm: structs.IngressRoundRobin},
	}); err != nil {
		return nil, err
	}
	b := &bench{o: o, wrk: wrk, script: script, modes: modes, backendPID: backendPID, progress: progress,
		addrs: map[string]string{
			"direct": backends[0],
			"http":   px.Addr("web-http").String(),
			"tcp":    px.Addr("web-tcp").String(),
		}}
	if slices.Contains(modes, "haproxy") {
		addr, pid, stop, err := startHAProxy(haproxy, dir, backends)
		if err != nil {
			return nil, err
		}
		defer stop()
		b.addrs["haproxy"], b.haproxyPID = addr, pid
	}
	var rows []row
	for _, work := range works {
		r, err := b.scenario(work)
		if err != nil {
			return rows, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// bench is the balancer section's set-up.
type bench struct {
	o          options
	wrk        string
	script     string
	modes      []string
	addrs      map[string]string // mode → where wrk sends its load
	backendPID int
	haproxyPID int
	progress   io.Writer
}

// scenario measures every mode with the backend spending work on each
// request.
func (b *bench) scenario(work time.Duration) ([]row, error) {
	o, modes := b.o, b.modes
	urls := map[string]string{}
	for m, addr := range b.addrs {
		urls[m] = "http://" + addr + "/?work=" + work.String()
	}

	// Warm up every path (connections, pools, the catalog's cache).
	for _, m := range modes {
		if _, err := runWrk(b.wrk, b.script, urls[m], o.connections, time.Second); err != nil {
			return nil, fmt.Errorf("warm-up %s: %w", m, err)
		}
	}
	results := map[string][]wrkResult{}
	var rpsRatio = map[string][]float64{}
	var p99Ratio = map[string][]float64{}
	for r := range o.rounds {
		round := map[string]wrkResult{}
		for i := range modes {
			m := modes[(r+i)%len(modes)]
			fmt.Fprintf(b.progress, "balancer: round %d/%d, %s: wrk -c %d -d %s %s\n", r+1, o.rounds, m, o.connections, o.wrkDuration, urls[m])
			balancerCPU := selfCPU
			if m == "haproxy" {
				balancerCPU = func() time.Duration { return processCPU(b.haproxyPID) }
			}
			proxy0, backend0 := balancerCPU(), processCPU(b.backendPID)
			res, err := runWrk(b.wrk, b.script, urls[m], o.connections, o.wrkDuration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			res.proxyCPU = (balancerCPU() - proxy0) / time.Duration(res.requests)
			res.backendCPU = (processCPU(b.backendPID) - backend0) / time.Duration(res.requests)
			round[m] = res
			results[m] = append(results[m], res)
		}
		for _, m := range modes[1:] {
			rpsRatio[m] = append(rpsRatio[m], round[m].rps/round["direct"].rps)
			p99Ratio[m] = append(p99Ratio[m], float64(round[m].p99)/float64(max(round["direct"].p99, time.Microsecond)))
		}
	}

	prefix := fmt.Sprintf("balancer, backend work %s:", work)
	var rows []row
	for _, m := range modes {
		rps := medianOf(results[m], func(w wrkResult) float64 { return w.rps })
		p50 := medianOf(results[m], func(w wrkResult) float64 { return float64(w.p50) })
		p99 := medianOf(results[m], func(w wrkResult) float64 { return float64(w.p99) })
		cpu := fmt.Sprintf("backend %.0f µs", medianOf(results[m], func(w wrkResult) float64 { return float64(w.backendCPU) })/1e3)
		if m != "direct" {
			cpu += fmt.Sprintf(" + balancer %.0f µs", medianOf(results[m], func(w wrkResult) float64 { return float64(w.proxyCPU) })/1e3)
		}
		rows = append(rows, row{fmt.Sprintf("%s %s: req/s, p50, p99; CPU per request", prefix, m),
			fmt.Sprintf("%.0f/s, %s, %s; %s", rps, us(time.Duration(p50)), us(time.Duration(p99)), cpu), "", ""})
	}
	for _, m := range modes[1:] {
		rr := median(rpsRatio[m])
		pr := median(p99Ratio[m])
		if m == "haproxy" {
			// A reference: what a well-known balancer does on this machine.
			rows = append(rows,
				row{fmt.Sprintf("%s %s/direct throughput", prefix, m), fmt.Sprintf("%.2f×", rr), "(reference)", ""},
				row{fmt.Sprintf("%s %s/direct p99 latency", prefix, m), fmt.Sprintf("%.2f×", pr), "(reference)", ""})
			continue
		}
		rows = append(rows,
			row{fmt.Sprintf("%s %s/direct throughput", prefix, m), fmt.Sprintf("%.2f×", rr), "≥ 0.80×", verdict(rr >= 0.8)},
			row{fmt.Sprintf("%s %s/direct p99 latency", prefix, m), fmt.Sprintf("%.2f×", pr), "≤ 1.20×", verdict(pr <= 1.2)},
		)
	}
	return rows, nil
}

// runWrk runs one wrk load and reads its figures.
func runWrk(wrk, script, url string, connections int, d time.Duration) (wrkResult, error) {
	secs := max(int(d.Round(time.Second)/time.Second), 1)
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, "-t", "1", "-c", strconv.Itoa(connections), "-d", strconv.Itoa(secs)+"s",
		"--timeout", "5s", "-s", script, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) != 10 || f[0] != "DROVER-WRK" {
			continue
		}
		var v [9]int64
		for i := range v {
			if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
				return wrkResult{}, fmt.Errorf("wrk: reading %q: %w", line, err)
			}
		}
		if errs := v[4] + v[5] + v[6] + v[7] + v[8]; errs > 0 {
			return wrkResult{}, fmt.Errorf("wrk: %d of %d requests failed (connect %d, read %d, write %d, status %d, timeout %d)",
				errs, v[0], v[4], v[5], v[6], v[7], v[8])
		}
		if v[0] == 0 || v[1] == 0 {
			return wrkResult{}, fmt.Errorf("wrk: no request completed: %s", out)
		}
		return wrkResult{
			requests: v[0],
			rps:      float64(v[0]) / (float64(v[1]) / 1e6),
			p50:      time.Duration(v[2]) * time.Microsecond,
			p99:      time.Duration(v[3]) * time.Microsecond,
		}, nil
	}
	return wrkResult{}, fmt.Errorf("wrk: no figures in its output: %s", out)
}

func medianOf(rs []wrkResult, f func(wrkResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return median(v)
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// startBackend starts this binary as a backend process with two
// listeners and returns their addresses.
func startBackend() ([]string, int, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), backendEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, 0, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, nil, fmt.Errorf("starting the backend: %w", err)
	}
	stop := func() {
		_ = stdin.Close() // the backend exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return nil, 0, nil, fmt.Errorf("the backend did not say where it listens: %w", err)
	}
	addrs := strings.Fields(line)
	if len(addrs) != 2 {
		stop()
		return nil, 0, nil, fmt.Errorf("the backend said %q, want two addresses", line)
	}
	return addrs, cmd.Process.Pid, stop, nil
}

// serveBackend is the backend process: two listeners on 127.0.0.1
// answering GET / with a small JSON document, as the demo app does, after
// the time the query's work parameter says, until stdin closes.
func serveBackend(stdin io.Reader, stdout io.Writer) error {
	host, _ := os.Hostname()
	var requests atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if work, err := time.ParseDuration(r.URL.Query().Get("work")); err == nil && work > 0 {
			time.Sleep(work) // stands for the instance's own work: a database call, say
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"version": "v1", "hostname": host, "alloc": "bench", "requests": requests.Add(1),
		})
	})
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addrs = append(addrs, ln.Addr().String())
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
	}
	if _, err := fmt.Fprintln(stdout, strings.Join(addrs, " ")); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the CPU time another process has used (Linux: from
// /proc/PID/stat; 0 elsewhere).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th fields of the line, in clock ticks (100 a second).
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// haproxyConfig balances http over the backends as the http ingress does:
// round robin, X-Forwarded-For, connections to the backends kept open.
const haproxyConfig = `global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option forwardfor
  http-reuse always
frontend ingress
  bind %s
  default_backend instances
backend instances
  balance roundrobin
%s`

// startHAProxy runs haproxy, a reference balancer, in front of the backends.
func startHAProxy(haproxy, dir string, backends []string) (string, int, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "  server i%d %s\n", i, b)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, haproxyConfig, addr, servers.String()), 0o644); err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(haproxy, "-db", "-f", cfg)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("starting haproxy: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return addr, cmd.Process.Pid, stop, nil
		}
		select {
		case <-exited:
			return "", 0, nil, fmt.Errorf("haproxy exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, nil, fmt.Errorf("haproxy did not listen on %s within 10s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
