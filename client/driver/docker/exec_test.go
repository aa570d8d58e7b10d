package docker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
)

func TestExecSignalAndStats(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	cfg, _ := taskConfig(t, d, nil)
	h, err := d.StartTask(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.DestroyTask(context.Background(), h, true) })
	waitLog(t, cfg.StdoutPath, "listening on", 1)

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
