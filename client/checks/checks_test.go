package checks

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/structs"
)

func httpCheck(path string) *structs.ServiceCheck {
	return &structs.ServiceCheck{Name: "h", Type: structs.CheckTypeHTTP, Path: path, Interval: time.Second, Timeout: time.Second}
}

func TestProbeHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			if r.Header.Get("X-Probe") != "drover" {
				w.WriteHeader(http.StatusBadRequest)
			}
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/created":
			w.WriteHeader(http.StatusCreated)
		default:
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	ok := httpCheck("/ok")
	ok.Header = map[string][]string{"X-Probe": {"drover"}}
	expect201 := httpCheck("/created")
	expect201.ExpectedStatus = 202
	for name, tc := range map[string]struct {
		check *structs.ServiceCheck
		want  string
	}{
		"2xx passes":                {ok, structs.CheckPassing},
		"429 warns":                 {httpCheck("/busy"), structs.CheckWarning},
		"500 fails":                 {httpCheck("/fail"), structs.CheckCritical},
		"unexpected status fails":   {expect201, structs.CheckCritical},
		"missing header is checked": {httpCheck("/ok"), structs.CheckCritical},
	} {
		t.Run(name, func(t *testing.T) {
			got, out := probe(context.Background(), tc.check, addr, nil)
			if got != tc.want {
				t.Fatalf("status %s (%s), want %s", got, out, tc.want)
			}
		})
	}
}

func TestProbeTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	check := &structs.ServiceCheck{Type: structs.CheckTypeTCP, Timeout: time.Second}
	if got, out := probe(context.Background(), check, addr, nil); got != structs.CheckPassing {
		t.Fatalf("open port: %s %s", got, out)
	}
	ln.Close()
	if got, _ := probe(context.Background(), check, addr, nil); got != structs.CheckCritical {
		t.Fatalf("closed port: %s", got)
	}
}

type fakeExec struct {
	code int
	out  string
	err  error
	cmd  []string
}

func (f *fakeExec) Exec(_ context.Context, task string, cmd []string) ([]byte, int, error) {
	f.cmd = append([]string{task}, cmd...)
	return []byte(f.out), f.code, f.err
}

func TestProbeScriptFollowsExitCodes(t *testing.T) {
	check := &structs.ServiceCheck{Type: structs.CheckTypeScript, Command: "/bin/check", Args: []string{"-v"}, TaskName: "app", Timeout: time.Second}
	for code, want := range map[int]string{0: structs.CheckPassing, 1: structs.CheckWarning, 2: structs.CheckCritical} {
		exec := &fakeExec{code: code, out: "fine"}
		if got, _ := probe(context.Background(), check, "", exec); got != want {
			t.Errorf("exit %d: %s, want %s", code, got, want)
		}
		if strings.Join(exec.cmd, " ") != "app /bin/check -v" {
			t.Errorf("ran %v", exec.cmd)
		}
	}
	if got, out := probe(context.Background(), check, "", &fakeExec{err: errors.New("no such container")}); got != structs.CheckCritical || out != "no such container" {
		t.Errorf("exec error: %s %s", got, out)
	}
}

func TestProbeGRPCHealth(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(ln)
	defer srv.Stop()

	check := &structs.ServiceCheck{Type: structs.CheckTypeGRPC, GRPCService: "api", Timeout: 2 * time.Second}
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_SERVING)
	if got, out := probe(context.Background(), check, ln.Addr().String(), nil); got != structs.CheckPassing {
		t.Fatalf("serving: %s %s", got, out)
	}
	hs.SetServingStatus("api", healthpb.HealthCheckResponse_NOT_SERVING)
	if got, _ := probe(context.Background(), check, ln.Addr().String(), nil); got != structs.CheckCritical {
		t.Fatalf("not serving: %s", got)
	}
}

func TestThresholdsAndCheckRestart(t *testing.T) {
	clk := clocktest.NewFake()
	check := &structs.ServiceCheck{Name: "s", Type: structs.CheckTypeScript, Interval: time.Second, Timeout: time.Second,
		SuccessBeforePassing: 2, FailuresBeforeCritical: 2, CheckRestart: &structs.CheckRestart{Limit: 2, Grace: 5 * time.Second}}
	var restarts []string
	w := New(Config{Targets: []Target{{ID: "svc/s", Service: "svc", Check: check}}, Clock: clk, Task: "app",
		OnRestart: func(task, reason string) { restarts = append(restarts, task) }})
	target := w.cfg.Targets[0]
	started := clk.Now()
	status := func() string { return w.Statuses()[0].Status }

	if status() != structs.CheckCritical {
		t.Fatalf("initial %s", status())
	}
	w.record(target, structs.CheckPassing, "", started)
	if status() != structs.CheckCritical {
		t.Fatal("one success passed a check that needs two")
	}
	w.record(target, structs.CheckPassing, "", started)
	if status() != structs.CheckPassing || !Healthy(w.Statuses(), false) {
		t.Fatalf("two successes: %s", status())
	}
	w.record(target, structs.CheckCritical, "", started)
	if status() != structs.CheckPassing {
		t.Fatal("one failure failed a check that needs two")
	}
	// Within the grace period failures do not count towards a restart.
	w.record(target, structs.CheckCritical, "", started)
	if status() != structs.CheckCritical || len(restarts) != 0 {
		t.Fatalf("status %s restarts %v", status(), restarts)
	}
	clk.Advance(6 * time.Second)
	w.record(target, structs.CheckCritical, "", started)
	w.record(target, structs.CheckCritical, "", started)
	if len(restarts) != 1 || restarts[0] != "app" {
		t.Fatalf("restarts %v", restarts)
	}
}

func TestWatcherRunsOnItsInterval(t *testing.T) {
	clk := clocktest.NewFake()
	exec := &fakeExec{code: 0}
	var mu sync.Mutex
	var changes [][]Status
	check := &structs.ServiceCheck{Name: "s", Type: structs.CheckTypeScript, Command: "x", Interval: 10 * time.Second, Timeout: time.Second}
	w := New(Config{Targets: []Target{{ID: "svc/s", Check: check}}, Exec: exec, Clock: clk,
		OnChange: func(s []Status) { mu.Lock(); changes = append(changes, s); mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(changes) == 1 })
	if changes[0][0].Status != structs.CheckPassing {
		t.Fatalf("first run: %+v", changes[0])
	}
	waitFor(t, func() bool { return clk.Timers() == 1 })
	exec.code = 2
	clk.Advance(10 * time.Second)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(changes) == 2 })
	if changes[1][0].Status != structs.CheckCritical {
		t.Fatalf("second run: %+v", changes[1])
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(time.Millisecond)
	}
}
