package mock

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/drover-project/drover/client/driver"
)

var (
	_ driver.ExecDriver   = (*Driver)(nil)
	_ driver.SignalDriver = (*Driver)(nil)
	_ driver.StatsDriver  = (*Driver)(nil)
)

// ExecTask runs two commands: "echo ARGS..." prints its arguments and
// "exit N" exits with N; "cat" copies stdin to stdout. Anything else exits
// 127 with "not found" on stderr, as a shell would.
func (d *Driver) ExecTask(ctx context.Context, h *driver.TaskHandle, opts *driver.ExecOptions) (int, error) {
	t, err := d.lookup(h)
	if err != nil {
		return 0, err
	}
	d.mu.Lock()
	running := t.result == nil
	d.mu.Unlock()
	if !running {
		return 0, fmt.Errorf("mock: task %q is not running", h.ContainerID)
	}
	out, errOut := orDiscard(opts.Stdout), orDiscard(opts.Stderr)
	switch opts.Command[0] {
	case "echo":
		_, err := fmt.Fprintln(out, strings.Join(opts.Command[1:], " "))
		return 0, err
	case "exit":
		if len(opts.Command) != 2 {
			return 2, nil
		}
		n, err := strconv.Atoi(opts.Command[1])
		if err != nil {
			return 2, nil
		}
		return n, nil
	case "cat":
		if opts.Stdin != nil {
			if _, err := io.Copy(out, opts.Stdin); err != nil {
				return 1, err
			}
		}
		return 0, nil
	}
	fmt.Fprintf(errOut, "%s: not found\n", opts.Command[0])
	return 127, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// SignalTask records the signal; the task ignores it.
func (d *Driver) SignalTask(ctx context.Context, h *driver.TaskHandle, sig string) error {
	t, err := d.lookup(h)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.result != nil {
		return fmt.Errorf("mock: task %q is not running", h.ContainerID)
	}
	t.signals = append(t.signals, sig)
	return nil
}

// Signals returns the signals sent to tasks of the named task, in order.
func (d *Driver) Signals(taskName string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, t := range d.tasks {
		if t.cfg.TaskName == taskName {
			out = append(out, t.signals...)
		}
	}
	return out
}

// TaskStats reports a fixed usage: 10 MiB and 5% of a core.
func (d *Driver) TaskStats(ctx context.Context, h *driver.TaskHandle) (*driver.TaskResourceUsage, error) {
	if _, err := d.lookup(h); err != nil {
		return nil, err
	}
	return &driver.TaskResourceUsage{
		Timestamp:      time.Now(),
		RSS:            10 << 20,
		Usage:          10 << 20,
		MemoryMeasured: []string{"RSS", "Usage"},
		Percent:        5,
		CPUMeasured:    []string{"Percent"},
	}, nil
}
