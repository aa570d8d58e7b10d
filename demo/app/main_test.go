package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// env builds a getenv function from a map, so tests never touch the
// process environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func newTestServer(t *testing.T, vars map[string]string) (*httptest.Server, *strings.Builder) {
	t.Helper()
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	s := &server{cfg: cfg, log: &log}
	ts := httptest.NewServer(s.handler())
	t.Cleanup(ts.Close)
	return ts, &log
}

func getInfo(t *testing.T, url string) info {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got info
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRootReportsIdentityAndCountsRequests(t *testing.T) {
	ts, log := newTestServer(t, map[string]string{"NOMAD_ALLOC_ID": "alloc-1"})

	first := getInfo(t, ts.URL+"/")
	if first.Version != version || first.Alloc != "alloc-1" || first.Requests != 1 || first.Hostname == "" {
		t.Errorf("first response = %+v", first)
	}
	// Health checks must not move the counter.
	if resp, err := http.Get(ts.URL + "/health"); err == nil {
		resp.Body.Close()
	}
	if second := getInfo(t, ts.URL+"/"); second.Requests != 2 {
		t.Errorf("second response requests = %d, want 2", second.Requests)
	}
	if !strings.Contains(log.String(), "GET / from ") {
		t.Errorf("request not logged: %q", log.String())
	}
}

func TestVersionOverride(t *testing.T) {
	ts, _ := newTestServer(t, map[string]string{"VERSION": "v9"})
	if got := getInfo(t, ts.URL+"/"); got.Version != "v9" {
		t.Errorf("version = %q, want v9", got.Version)
	}
}

func TestUnknownPathIs404(t *testing.T) {
	ts, _ := newTestServer(t, nil)
	resp, err := http.Get(ts.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
}

func TestHealth(t *testing.T) {
	for _, tc := range []struct {
		fail string
		want int
	}{
		{"", http.StatusOK},
		{"0", http.StatusOK},
		{"1", http.StatusInternalServerError},
	} {
		ts, _ := newTestServer(t, map[string]string{"FAIL_HEALTH": tc.fail})
		resp, err := http.Get(ts.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("FAIL_HEALTH=%q: status %d, want %d", tc.fail, resp.StatusCode, tc.want)
		}
	}
}

func TestBadConfigIsRejected(t *testing.T) {
	for _, vars := range []map[string]string{
		{"CRASH_AFTER": "soon"},
		{"EXIT_CODE": "one"},
	} {
		if _, err := loadConfig(env(vars)); err == nil {
			t.Errorf("loadConfig(%v) succeeded", vars)
		}
	}
}

// startRun runs the app on a free port and returns its base URL once it
// listens, and a channel with its exit code.
func startRun(t *testing.T, ctx context.Context, vars map[string]string) (string, <-chan int) {
	t.Helper()
	vars["PORT"] = "0"
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, env(vars), pw)
		pw.Close()
	}()
	// The start line carries the address the kernel picked.
	addrRE := regexp.MustCompile(`listening on (\S+)`)
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output from run: %v", lines.Err())
	}
	m := addrRE.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("unexpected first line %q", lines.Text())
	}
	// Keep draining so the app never blocks on its log writes.
	go func() {
		for lines.Scan() {
		}
	}()
	return "http://" + strings.Replace(m[1], "[::]", "127.0.0.1", 1), code
}

func waitCode(t *testing.T, code <-chan int) int {
	t.Helper()
	select {
	case c := <-code:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return")
		return -1
	}
}

func TestRunExitsZeroOnSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, code := startRun(t, ctx, map[string]string{"NOMAD_ALLOC_ID": "a"})
	if got := getInfo(t, url+"/"); got.Alloc != "a" {
		t.Errorf("alloc = %q", got.Alloc)
	}
	cancel() // what SIGTERM does through signal.NotifyContext
	if c := waitCode(t, code); c != 0 {
		t.Errorf("exit code = %d, want 0", c)
	}
}

func TestRunCrashAfter(t *testing.T) {
	_, code := startRun(t, context.Background(), map[string]string{
		"CRASH_AFTER": "50ms",
		"EXIT_CODE":   "7",
	})
	if c := waitCode(t, code); c != 7 {
		t.Errorf("exit code = %d, want 7", c)
	}
}
