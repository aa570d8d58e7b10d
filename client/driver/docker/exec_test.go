package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
)

// startListening starts the demo app and waits until it listens; the task
// is destroyed when the test ends. It returns the task's handle and config.
func startListening(t *testing.T, d *Driver) (*driver.TaskHandle, *driver.TaskConfig) {
	t.Helper()
	cfg, _ := taskConfig(t, d, nil)
	h, err := d.StartTask(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.DestroyTask(context.Background(), h, true) })
	waitLog(t, cfg.StdoutPath, "listening on", 1)
	return h, cfg
}

func TestExecSignalAndStats(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	h, cfg := startListening(t, d)

	var out, errOut strings.Builder
	code, err := d.ExecTask(ctx, h, &driver.ExecOptions{Command: []string{"/app", "echo", "in", "the", "container"}, Stdout: &out, Stderr: &errOut})
	if err != nil || code != 0 || out.String() != "in the container\n" {
		t.Errorf("exec echo: code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errOut.String())
	}
	out.Reset()
	code, err = d.ExecTask(ctx, h, &driver.ExecOptions{Command: []string{"/app", "cat", "/dev/stdin"}, Stdin: strings.NewReader("fed in\n"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "fed in\n" {
		t.Errorf("exec cat: code %d, err %v, stdout %q", code, err, out.String())
	}
	code, err = d.ExecTask(ctx, h, &driver.ExecOptions{Command: []string{"/app", "exit", "7"}})
	if err != nil || code != 7 {
		t.Errorf("exec exit 7: code %d, err %v", code, err)
	}
	errOut.Reset()
	code, err = d.ExecTask(ctx, h, &driver.ExecOptions{Command: []string{"/missing"}, Stdout: &errOut, Stderr: &errOut})
	if err != nil || code == 0 {
		t.Errorf("exec of a missing command: code %d, err %v, output %q", code, err, errOut.String())
	}

	if err := d.SignalTask(ctx, h, "SIGHUP"); err != nil {
		t.Fatal(err)
	}
	waitLog(t, cfg.StdoutPath, "SIGHUP received", 1)

	u, err := d.TaskStats(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if u.Usage == 0 || u.Timestamp.IsZero() || len(u.CPUMeasured) == 0 {
		t.Errorf("stats = %+v", u)
	}

	// Once the container is gone, the operations say so.
	if err := d.DestroyTask(ctx, h, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := d.ExecTask(ctx, h, &driver.ExecOptions{Command: []string{"/app", "echo"}}); !errors.Is(err, driver.ErrTaskNotFound) {
		t.Errorf("exec in a removed container: %v", err)
	}
	if err := d.SignalTask(ctx, h, "SIGHUP"); !errors.Is(err, driver.ErrTaskNotFound) {
		t.Errorf("signal to a removed container: %v", err)
	}
}

// TestExecRepeated runs many short commands in one container, the way the
// exec websocket does (stdin attached, closed by the caller a little
// later), alternating one that succeeds silently with one that fails and
// says why: each reports its own exit code, and a failure always comes
// with its message. Bounded in count and time.
func TestExecRepeated(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	h, _ := startListening(t, d)

	const runs = 60 // a soak: raise it and run with -run
	deadline := time.Now().Add(90 * time.Second)
	n := 0
	for ; n < runs && time.Now().Before(deadline); n++ {
		stdin, closeStdin := io.Pipe()
		// The caller's "stdin closed" frame lands before, during or after
		// the command.
		closer := time.AfterFunc(time.Duration(n%7)*15*time.Millisecond, func() { _ = closeStdin.Close() })
		cmd, wantCode, wantErr := []string{"/app", "write", "/health", fmt.Sprint(n)}, 0, ""
		if n%2 == 1 {
			cmd, wantCode, wantErr = []string{"/app", "cat", "/no-such-file"}, 1, "no such file or directory"
		}
		var out, errOut strings.Builder
		code, err := d.ExecTask(ctx, h, &driver.ExecOptions{Command: cmd, Stdin: stdin, Stdout: &out, Stderr: &errOut})
		closer.Stop()
		_ = closeStdin.Close()
		if err != nil || code != wantCode || out.Len() != 0 || !strings.Contains(errOut.String(), wantErr) || (wantErr == "" && errOut.Len() != 0) {
			t.Fatalf("exec %d %v: code %d (want %d), err %v, stdout %q, stderr %q", n, cmd, code, wantCode, err, out.String(), errOut.String())
		}
	}
	if n < runs/3 {
		t.Fatalf("only %d of %d execs ran within the time bound", n, runs)
	}
	t.Logf("%d execs", n)
}
