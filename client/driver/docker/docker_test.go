package docker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/internal/demoimage"
	"github.com/moby/moby/client"
)

// These tests run real containers of the demo image in the local engine.
// Without an engine they are skipped, unless DROVER_REQUIRE_DOCKER=1 (for
// CI, where a missing engine is a broken runner, not a reason to pass).

// noDocker says why the engine tests are skipped; nil when they run.
var noDocker error

// demoImage is the image the tests run.
var demoImage = demoimage.Ref("v1")

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	noDocker = pingEngine(ctx)
	if noDocker != nil && os.Getenv("DROVER_REQUIRE_DOCKER") == "1" {
		fmt.Fprintf(os.Stderr, "DROVER_REQUIRE_DOCKER=1 but %v\n", noDocker)
		os.Exit(1)
	}
	if noDocker == nil {
		if err := demoimage.Ensure(ctx, "v1"); err != nil {
			fmt.Fprintf(os.Stderr, "building the demo image: %v\n", err)
			os.Exit(1)
		}
	}
	cancel()
	os.Exit(m.Run())
}

func pingEngine(ctx context.Context) error {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("no Docker engine: %w", err)
	}
	return nil
}

func requireDocker(tb testing.TB) {
	tb.Helper()
	if noDocker != nil {
		tb.Skip(noDocker)
	}
}

// newDriver returns a driver closed at the end of the test. Warnings go to
// stderr: the driver's goroutines may log after a test has ended, which
// testing.T does not allow.
func newDriver(tb testing.TB) *Driver {
	tb.Helper()
	requireDocker(tb)
	d, err := New(Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// freePort asks the kernel for a port that is free right now.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newAllocID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// taskConfig is a task of the demo image publishing its HTTP port on a
// free port of 127.0.0.1. Its container is removed when the test ends,
// whatever the test did.
func taskConfig(tb testing.TB, d *Driver, env map[string]string) (*driver.TaskConfig, int) {
	tb.Helper()
	port := freePort(tb)
	alloc := newAllocID()
	logDir := filepath.Join(tb.TempDir(), "alloc", "logs")
	e := map[string]string{"NOMAD_ALLOC_ID": alloc}
	for k, v := range env {
		e[k] = v
	}
	cfg := &driver.TaskConfig{
		AllocID:    alloc,
		Namespace:  "default",
		JobID:      "demo",
		JobName:    "demo",
		GroupName:  "web",
		TaskName:   "server",
		Image:      demoImage,
		Labels:     map[string]string{"team": "drover"},
		PortLabels: []string{"http"},
		Ports:      []driver.PortMapping{{Label: "http", HostIP: "127.0.0.1", HostPort: port, ContainerPort: demoimage.Port}},
		Env:        e,
		CPUShares:  100,
		MemoryMB:   64,
		StdoutPath: filepath.Join(logDir, "server.stdout.0"),
		StderrPath: filepath.Join(logDir, "server.stderr.0"),
	}
	tb.Cleanup(func() {
		_, _ = d.cli.ContainerRemove(context.Background(), ContainerName(cfg), client.ContainerRemoveOptions{Force: true})
	})
	return cfg, port
}

// eventually retries check until it succeeds or the deadline passes.
func eventually(tb testing.TB, timeout time.Duration, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type demoInfo struct {
	Version  string `json:"version"`
	Hostname string `json:"hostname"`
	Alloc    string `json:"alloc"`
	Requests int64  `json:"requests"`
}

// get fetches the demo app's / on port, retrying until it answers (the
// app needs a moment to listen after the container starts).
func get(tb testing.TB, port int) demoInfo {
	tb.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	var info demoInfo
	eventually(tb, 15*time.Second, func() error {
		resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(&info)
	})
	return info
}

// waitLog waits until the file contains want at least n times.
func waitLog(tb testing.TB, path, want string, n int) {
	tb.Helper()
	eventually(tb, 10*time.Second, func() error {
		b, _ := os.ReadFile(path)
		if got := strings.Count(string(b), want); got < n {
			return fmt.Errorf("%s has %d of %q, want %d:\n%s", filepath.Base(path), got, want, n, b)
		}
		return nil
	})
}

func countIn(tb testing.TB, path, s string) int {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Count(string(b), s)
}

// result waits for a WaitTask result and checks the channel then closes.
func result(tb testing.TB, ch <-chan *driver.ExitResult, timeout time.Duration) *driver.ExitResult {
	tb.Helper()
	select {
	case res := <-ch:
		if res == nil {
			tb.Fatal("wait channel closed without a result")
		}
		select {
		case _, open := <-ch:
			if open {
				tb.Error("wait channel sent a second result")
			}
		case <-time.After(time.Second):
			tb.Error("wait channel not closed after its result")
		}
		return res
	case <-time.After(timeout):
		tb.Fatalf("no exit result after %s", timeout)
		return nil
	}
}

func TestFingerprint(t *testing.T) {
	d := newDriver(t)
	fp := d.Fingerprint(context.Background())
	if !fp.Detected || !fp.Healthy {
		t.Fatalf("fingerprint = %+v", fp)
	}
	if fp.Attributes["driver.docker"] != "1" || fp.Attributes["driver.docker.version"] == "" {
		t.Errorf("attributes = %v", fp.Attributes)
	}
	t.Logf("attributes: %v", fp.Attributes)
}

func TestFingerprintUnreachableEngine(t *testing.T) {
	cli, err := client.New(client.WithHost("unix://" + filepath.Join(t.TempDir(), "no.sock")))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	d, err := New(Config{Client: cli})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if fp := d.Fingerprint(context.Background()); fp.Detected || fp.Healthy || fp.Description == "" {
		t.Errorf("fingerprint = %+v", fp)
	}
}

// TestTaskLifecycle follows one task from start to destroy.
func TestTaskLifecycle(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	cfg, port := taskConfig(t, d, nil)

	h, err := d.StartTask(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h.Driver != Name || h.ContainerID == "" || h.Config != cfg || h.StartedAt.IsZero() {
		t.Errorf("handle = %+v", h)
	}
	wait, err := d.WaitTask(ctx, h)
	if err != nil {
		t.Fatal(err)
	}

	// The container is configured as asked.
	ins, err := d.cli.ContainerInspect(ctx, h.ContainerID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := ins.Container
	if c.Name != "/server-"+cfg.AllocID {
		t.Errorf("name = %q", c.Name)
	}
	for k, v := range map[string]string{LabelAllocID: cfg.AllocID, LabelTaskName: "server", LabelTaskGroup: "web", "team": "drover"} {
		if c.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Config.Labels[k], v)
		}
	}
	if c.HostConfig.Memory != 64<<20 || c.HostConfig.CPUShares != 100 || c.HostConfig.RestartPolicy.Name != "no" {
		t.Errorf("host config: memory %d, shares %d, restart %q", c.HostConfig.Memory, c.HostConfig.CPUShares, c.HostConfig.RestartPolicy.Name)
	}

	// The app answers on the published port, as the right alloc.
	info := get(t, port)
	if info.Alloc != cfg.AllocID || info.Version != "v1" || !strings.HasPrefix(h.ContainerID, info.Hostname) {
		t.Errorf("GET / = %+v", info)
	}
	// Its output reaches the log file.
	waitLog(t, cfg.StdoutPath, "listening on", 1)
	waitLog(t, cfg.StdoutPath, "GET / from", 1)

	// Listed as drover's.
	list, err := d.ListDroverContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !containsContainer(list, h.ContainerID, cfg.AllocID, "running") {
		t.Errorf("container not listed as running: %+v", list)
	}

	// SIGTERM stops the demo app cleanly and promptly.
	start := time.Now()
	if err := d.StopTask(ctx, h, 10*time.Second, ""); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stop took %s", took)
	}
	res := result(t, wait, 10*time.Second)
	if !res.Successful() || res.FinishedAt.IsZero() {
		t.Errorf("exit result = %+v", res)
	}
	waitLog(t, cfg.StdoutPath, "signal received", 1)

	// Stopping again is fine; destroying leaves nothing, twice.
	if err := d.StopTask(ctx, h, time.Second, ""); err != nil {
		t.Errorf("second stop: %v", err)
	}
	for range 2 {
		if err := d.DestroyTask(ctx, h, false); err != nil {
			t.Fatalf("destroy: %v", err)
		}
	}
	if _, err := d.cli.ContainerInspect(ctx, h.ContainerID, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("container still there after destroy: %v", err)
	}
	list, _ = d.ListDroverContainers(ctx)
	if containsContainer(list, h.ContainerID, cfg.AllocID, "") {
		t.Error("destroyed container still listed")
	}
	if err := d.StopTask(ctx, h, time.Second, ""); err != nil {
		t.Errorf("stop after destroy: %v", err)
	}
	if err := d.RecoverTask(ctx, h); !errors.Is(err, driver.ErrTaskNotFound) {
		t.Errorf("recover after destroy = %v, want ErrTaskNotFound", err)
	}
}

func containsContainer(list []ContainerInfo, id, alloc, state string) bool {
	for _, c := range list {
		if c.ID == id && c.AllocID() == alloc && c.TaskName() == "server" && (state == "" || c.State == state) {
			return true
		}
	}
	return false
}

// TestCrashAndRestart checks an exit code is reported, and that starting
// the task again (a restart) replaces its previous container.
func TestCrashAndRestart(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	cfg, _ := taskConfig(t, d, map[string]string{"CRASH_AFTER": "300ms", "EXIT_CODE": "3"})

	var ids []string
	for run := 1; run <= 2; run++ {
		h, err := d.StartTask(ctx, cfg)
		if err != nil {
			t.Fatalf("start %d: %v", run, err)
		}
		ids = append(ids, h.ContainerID)
		wait, err := d.WaitTask(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		res := result(t, wait, 15*time.Second)
		if res.ExitCode != 3 || res.Err != nil || res.Successful() || res.FinishedAt.IsZero() {
			t.Errorf("run %d: exit result = %+v", run, res)
		}
		// WaitTask reports only once the output is in the file, and
		// restarts append to the same file.
		if n := countIn(t, cfg.StdoutPath, "exiting with code 3"); n != run {
			t.Errorf("run %d: crash line %d times in the log", run, n)
		}
	}
	if ids[0] == ids[1] {
		t.Error("restart reused the container")
	}
	if _, err := d.cli.ContainerInspect(ctx, ids[0], client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("first container not replaced: %v", err)
	}
}

// TestStopEscalatesToKill stops with a signal the app ignores, so the
// driver must kill it after the timeout.
func TestStopEscalatesToKill(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	cfg, port := taskConfig(t, d, nil)

	h, err := d.StartTask(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	get(t, port) // running and serving
	wait, _ := d.WaitTask(ctx, h)
	start := time.Now()
	if err := d.StopTask(ctx, h, 300*time.Millisecond, "SIGUSR1"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("stopped after %s, before the timeout", took)
	}
	if res := result(t, wait, 10*time.Second); res.ExitCode != 137 {
		t.Errorf("exit result = %+v, want SIGKILL's 137", res)
	}
}

func TestMissingImageFailsClearly(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	cfg, _ := taskConfig(t, d, nil)
	cfg.Image = "drover-nonexistent:never"
	_, err := d.StartTask(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "failed to pull image drover-nonexistent:never") {
		t.Fatalf("StartTask error = %v", err)
	}
	if _, err := d.cli.ContainerInspect(context.Background(), ContainerName(cfg), client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("a container was left behind: %v", err)
	}
}

// TestRecoverTask simulates a client restart: the first driver goes away
// while the task runs and logs, a second one recovers the task and must
// copy exactly the lines the first did not.
func TestRecoverTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d1 := newDriver(t)
	cfg, port := taskConfig(t, d1, nil)
	h, err := d1.StartTask(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	get(t, port)
	waitLog(t, cfg.StdoutPath, "GET / from", 1)
	d1.Close()

	// Output while no one copies stays in the engine's log.
	get(t, port)
	get(t, port)

	// The stored handle would come back from the client's state as a copy.
	stored := *h
	d2 := newDriver(t)
	if err := d2.RecoverTask(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	// Recovering twice must not start a second copy.
	if err := d2.RecoverTask(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if got := get(t, port); got.Requests != 4 {
		t.Errorf("requests = %d, want 4", got.Requests)
	}
	// Replayed lines arrive before the fourth request's, so once the
	// fourth is in, any duplicate would be too.
	waitLog(t, cfg.StdoutPath, "GET / from", 4)
	if n := countIn(t, cfg.StdoutPath, "GET / from"); n != 4 {
		t.Errorf("request lines = %d, want 4 (lost or duplicated output)", n)
	}
	if n := countIn(t, cfg.StdoutPath, "listening on"); n != 1 {
		t.Errorf("start line %d times, want 1", n)
	}

	wait, err := d2.WaitTask(ctx, &stored)
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.StopTask(ctx, &stored, 5*time.Second, ""); err != nil {
		t.Fatal(err)
	}
	if res := result(t, wait, 10*time.Second); !res.Successful() {
		t.Errorf("exit result = %+v", res)
	}
	if err := d2.DestroyTask(ctx, &stored, true); err != nil {
		t.Fatal(err)
	}
}

// TestWaitReportsRemovedContainer: a container removed out of band is a
// lost task, not an exit.
func TestWaitReportsRemovedContainer(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	cfg, port := taskConfig(t, d, nil)
	h, err := d.StartTask(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	get(t, port)
	if err := d.DestroyTask(ctx, h, true); err != nil {
		t.Fatal(err)
	}
	wait, err := d.WaitTask(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if res := result(t, wait, 10*time.Second); !errors.Is(res.Err, driver.ErrTaskNotFound) {
		t.Errorf("exit result = %+v, want ErrTaskNotFound", res)
	}
}
