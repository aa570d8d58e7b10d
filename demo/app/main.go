// Command app is the demo workload drover runs in its tests, examples and
// benchmarks. It is deliberately tiny and uses only the standard library, so
// it builds as a static binary that internal/dockerimage can wrap into an
// image without a registry.
//
// Behaviour is driven by environment variables, so one image covers every
// scenario a test needs:
//
//	PORT         port to listen on (default 8080)
//	VERSION      overrides the version reported (default: compiled in with
//	             -ldflags "-X main.version=v1")
//	NOMAD_ALLOC_ID  reported as "alloc", so a test can tell instances apart
//	FAIL_HEALTH  "1" makes /health answer 500
//	HEALTH_FILE  a path; /health answers 500 while the file holds "fail",
//	             so a test can turn an instance unhealthy and back with
//	             `alloc exec ... /app write FILE fail` (then `... ok`)
//	CRASH_AFTER  a duration ("5s"); the process exits after it
//	EXIT_CODE    the exit code used by CRASH_AFTER (default 1)
//
// It answers:
//
//	GET /        {"version","hostname","alloc","requests"}
//	GET /health  200 "ok", or 500 when FAIL_HEALTH=1
//
// SIGTERM and SIGINT make it exit 0 promptly, as a well-behaved service
// would; tests of kill escalation use a signal it does not handle. SIGHUP
// is logged ("drover-demo: SIGHUP received") and otherwise ignored, as a
// reload would be, so tests can see a signal arrive.
//
// With arguments it runs a subcommand instead of serving (echo, exit,
// sleep, cat, write, env: see subcommands.go), for short tasks and exec.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// version is set at link time; mkimage builds v1 and v2 of the same source.
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		os.Exit(subcommand(os.Args[1:], os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Getenv, os.Stdout))
}

// config is the app's environment, parsed once at start so a bad value is
// reported immediately rather than on first use.
type config struct {
	port       string
	version    string
	hostname   string
	alloc      string
	failHealth bool
	healthFile string
	crashAfter time.Duration
	exitCode   int
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		port:       getenv("PORT"),
		version:    getenv("VERSION"),
		alloc:      getenv("NOMAD_ALLOC_ID"),
		failHealth: getenv("FAIL_HEALTH") == "1",
		healthFile: getenv("HEALTH_FILE"),
		exitCode:   1,
	}
	if c.port == "" {
		c.port = "8080"
	}
	if c.version == "" {
		c.version = version
	}
	// The hostname is the container ID under Docker, which lets a test
	// match a response to a container.
	c.hostname, _ = os.Hostname()
	if s := getenv("CRASH_AFTER"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return c, fmt.Errorf("CRASH_AFTER: %w", err)
		}
		c.crashAfter = d
	}
	if s := getenv("EXIT_CODE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return c, fmt.Errorf("EXIT_CODE: %w", err)
		}
		c.exitCode = n
	}
	return c, nil
}

// info is the body of GET /.
type info struct {
	Version  string `json:"version"`
	Hostname string `json:"hostname"`
	Alloc    string `json:"alloc"`
	// Requests counts the GET / requests served so far, this one included
	// (health checks are not counted, so they do not skew load-balancing
	// tests that compare counts across instances).
	Requests int64 `json:"requests"`
}

// server holds the state shared by the handlers.
type server struct {
	cfg      config
	log      io.Writer
	requests atomic.Int64
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.root)
	mux.HandleFunc("GET /health", s.health)
	return s.logRequests(mux)
}

func (s *server) root(w http.ResponseWriter, r *http.Request) {
	body := info{
		Version:  s.cfg.version,
		Hostname: s.cfg.hostname,
		Alloc:    s.cfg.alloc,
		Requests: s.requests.Add(1),
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if s.cfg.failHealth {
		http.Error(w, "unhealthy (FAIL_HEALTH=1)", http.StatusInternalServerError)
		return
	}
	if s.cfg.healthFile != "" {
		if b, err := os.ReadFile(s.cfg.healthFile); err == nil && strings.TrimSpace(string(b)) == "fail" {
			http.Error(w, "unhealthy ("+s.cfg.healthFile+" says fail)", http.StatusInternalServerError)
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

// logRequests writes one line per request to stdout, which is how tests
// check that the driver copies a task's output into its log files.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(s.log, "%s %s from %s\n", r.Method, r.URL.Path, r.RemoteAddr)
		next.ServeHTTP(w, r)
	})
}

// run serves until ctx is cancelled (a signal: exit 0), CRASH_AFTER elapses
// (exit EXIT_CODE) or the listener fails (exit 1). It returns the exit code
// rather than calling os.Exit so tests can drive it.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stdout, "drover-demo: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", cfg.port))
	if err != nil {
		fmt.Fprintf(stdout, "drover-demo: %v\n", err)
		return 1
	}
	s := &server{cfg: cfg, log: stdout}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "drover-demo %s listening on %s (alloc %q, hostname %q)\n",
		cfg.version, ln.Addr(), cfg.alloc, cfg.hostname)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	stopHUP := logHangups(ctx, stdout)
	defer stopHUP()

	// A nil channel never fires, so without CRASH_AFTER only the other
	// cases can end the loop.
	var crash <-chan time.Time
	if cfg.crashAfter > 0 {
		t := time.NewTimer(cfg.crashAfter)
		defer t.Stop()
		crash = t.C
	}

	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "drover-demo: signal received, shutting down")
		shutdown(srv)
		return 0
	case <-crash:
		fmt.Fprintf(stdout, "drover-demo: CRASH_AFTER=%s elapsed, exiting with code %d\n",
			cfg.crashAfter, cfg.exitCode)
		_ = srv.Close()
		return cfg.exitCode
	case err := <-serveErr:
		if errors.Is(err, http.ErrServerClosed) {
			return 0
		}
		fmt.Fprintf(stdout, "drover-demo: %v\n", err)
		return 1
	}
}

// shutdown lets in-flight requests finish, but only briefly: "promptly" is
// the contract, and a stop that lingers would make drover's kill timeout
// the thing under test instead of the app.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
}
