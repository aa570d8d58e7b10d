// Package mock is a driver that runs nothing: each task sleeps for a while
// and exits as told. It lets the client and the scheduler be tested without
// Docker.
//
// A task says how it behaves through its `config` keys, as with Nomad's
// mock_driver (config { run_for = "10s", exit_code = 1 }), or through its
// `args` as key=value strings; args win where both name a key:
//
//	run_for=10s       how long the task runs before exiting (default 0: exit at once)
//	exit_code=1       the exit code (default 0)
//	oom=true          report the exit as an out-of-memory kill
//	start_error=msg   StartTask fails with msg
//	start_delay=1m    StartTask takes this long (or until its ctx ends), like an image pull
//	stdout=text       written to the stdout log when the task starts
//	stderr=text       written to the stderr log when the task starts
package mock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/client/driver"
)

// Name is the driver's name in jobs (driver = "mock").
const Name = "mock"

// Driver is the mock driver. The zero value is not usable: call New.
type Driver struct {
	mu      sync.Mutex
	healthy bool
	tasks   map[string]*task
	started []*driver.TaskConfig
	// starting counts StartTask calls in progress.
	starting int
}

type task struct {
	cfg    *driver.TaskConfig
	done   chan struct{}
	result *driver.ExitResult
	timer  *time.Timer
	// signals are those SignalTask delivered.
	signals []string
}

// New returns a healthy mock driver.
func New() *Driver {
	return &Driver{healthy: true, tasks: map[string]*task{}}
}

// Name returns "mock".
func (d *Driver) Name() string { return Name }

// SetHealthy changes what Fingerprint reports.
func (d *Driver) SetHealthy(healthy bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.healthy = healthy
}

// Fingerprint reports the driver as detected, healthy unless told otherwise.
func (d *Driver) Fingerprint(ctx context.Context) *driver.Fingerprint {
	d.mu.Lock()
	defer d.mu.Unlock()
	desc := "Healthy"
	if !d.healthy {
		desc = "Unhealthy"
	}
	return &driver.Fingerprint{
		Detected:    true,
		Healthy:     d.healthy,
		Description: desc,
		Attributes:  map[string]string{"driver.mock.version": "1"},
	}
}

// Started returns the configs of every StartTask call that succeeded, in order.
func (d *Driver) Started() []*driver.TaskConfig {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*driver.TaskConfig(nil), d.started...)
}

// Starting reports how many StartTask calls are in progress.
func (d *Driver) Starting() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.starting
}

// Running reports how many tasks have started and not yet exited.
func (d *Driver) Running() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, t := range d.tasks {
		if t.result == nil {
			n++
		}
	}
	return n
}

// Tasks reports how many tasks exist (started and not destroyed).
func (d *Driver) Tasks() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.tasks)
}

// behaviour is what a task's args ask for.
type behaviour struct {
	runFor     time.Duration
	exitCode   int
	oom        bool
	startError string
	startDelay time.Duration
	stdout     string
	stderr     string
}

func parseArgs(args []string) (behaviour, error) {
	var b behaviour
	for _, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		if !ok {
			return b, fmt.Errorf("mock: argument %q is not key=value", arg)
		}
		var err error
		switch key {
		case "run_for":
			b.runFor, err = time.ParseDuration(value)
		case "exit_code":
			b.exitCode, err = strconv.Atoi(value)
		case "oom":
			b.oom, err = strconv.ParseBool(value)
		case "start_error":
			b.startError = value
		case "start_delay":
			b.startDelay, err = time.ParseDuration(value)
		case "stdout":
			b.stdout = value
		case "stderr":
			b.stderr = value
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return b, fmt.Errorf("mock: argument %q: %w", arg, err)
		}
	}
	return b, nil
}

// configArgs turns the behaviour keys of a task's config block into
// key=value arguments; other keys (image, ports, ...) are left alone.
func configArgs(config map[string]any) []string {
	var out []string
	for _, key := range []string{"run_for", "exit_code", "oom", "start_error", "start_delay", "stdout", "stderr"} {
		if v, ok := config[key]; ok && v != nil {
			out = append(out, fmt.Sprintf("%s=%v", key, v))
		}
	}
	return out
}

// StartTask "starts" the task: it writes the requested output to the log
// files and arranges to exit after run_for.
func (d *Driver) StartTask(ctx context.Context, cfg *driver.TaskConfig) (*driver.TaskHandle, error) {
	b, err := parseArgs(append(configArgs(cfg.DriverConfig), cfg.Args...))
	if err != nil {
		return nil, err
	}
	if b.startDelay > 0 {
		d.mu.Lock()
		d.starting++
		d.mu.Unlock()
		defer func() {
			d.mu.Lock()
			d.starting--
			d.mu.Unlock()
		}()
		t := time.NewTimer(b.startDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("mock: start: %w", ctx.Err())
		}
	}
	if b.startError != "" {
		return nil, errors.New(b.startError)
	}
	if err := writeLog(cfg.StdoutPath, b.stdout); err != nil {
		return nil, err
	}
	if err := writeLog(cfg.StderrPath, b.stderr); err != nil {
		return nil, err
	}

	id := uuid.NewString()
	t := &task{cfg: cfg, done: make(chan struct{})}
	d.mu.Lock()
	d.tasks[id] = t
	d.started = append(d.started, cfg)
	t.timer = time.AfterFunc(b.runFor, func() {
		d.finish(t, &driver.ExitResult{ExitCode: b.exitCode, OOMKilled: b.oom})
	})
	d.mu.Unlock()
	return &driver.TaskHandle{Driver: Name, ContainerID: id, StartedAt: time.Now(), Config: cfg}, nil
}

// writeLog appends text to the log file at path, creating it; an empty path
// (a test that does not care about logs) is skipped.
func writeLog(path, text string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("mock: open log: %w", err)
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}

// finish records the task's end once; later calls are ignored.
func (d *Driver) finish(t *task, res *driver.ExitResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.result != nil {
		return
	}
	t.timer.Stop()
	res.FinishedAt = time.Now()
	t.result = res
	close(t.done)
}

func (d *Driver) lookup(h *driver.TaskHandle) (*task, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tasks[h.ContainerID]
	if !ok {
		return nil, fmt.Errorf("mock: no task %q", h.ContainerID)
	}
	return t, nil
}

// WaitTask returns a channel that gets the task's exit result.
func (d *Driver) WaitTask(ctx context.Context, h *driver.TaskHandle) (<-chan *driver.ExitResult, error) {
	t, err := d.lookup(h)
	if err != nil {
		return nil, err
	}
	ch := make(chan *driver.ExitResult, 1)
	go func() {
		defer close(ch)
		select {
		case <-t.done:
			res := *t.result
			ch <- &res
		case <-ctx.Done():
		}
	}()
	return ch, nil
}

// StopTask ends the task at once, as if it obeyed the signal.
func (d *Driver) StopTask(ctx context.Context, h *driver.TaskHandle, timeout time.Duration, signal string) error {
	t, err := d.lookup(h)
	if err != nil {
		return err
	}
	d.finish(t, &driver.ExitResult{Signal: int(syscall.SIGTERM)})
	return nil
}

// DestroyTask forgets the task, stopping it first if force is set.
func (d *Driver) DestroyTask(ctx context.Context, h *driver.TaskHandle, force bool) error {
	t, err := d.lookup(h)
	if err != nil {
		return err
	}
	d.mu.Lock()
	running := t.result == nil
	d.mu.Unlock()
	if running && !force {
		return fmt.Errorf("mock: task %q is still running", h.ContainerID)
	}
	d.finish(t, &driver.ExitResult{Signal: int(syscall.SIGKILL)})
	d.mu.Lock()
	delete(d.tasks, h.ContainerID)
	d.mu.Unlock()
	return nil
}

// RecoverTask succeeds when this driver instance still knows the task, as a
// real driver would find the container still there.
func (d *Driver) RecoverTask(ctx context.Context, h *driver.TaskHandle) error {
	_, err := d.lookup(h)
	return err
}
