package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// The operations an operator runs on a live task: restart, signal, exec,
// stats, and how a kill honours shutdown_delay.

// ErrTaskNotRunning is returned by operations that need a running task.
var ErrTaskNotRunning = errors.New("task is not running")

// ErrNotSupported is returned when the task's driver cannot do an operation.
var ErrNotSupported = errors.New("not supported by the task's driver")

// userRestartReason is the reason of the Restarting event after Restart.
const userRestartReason = "User requested restart"

// KillWithoutDelay is Kill that skips the task's shutdown_delay.
func (tr *TaskRunner) KillWithoutDelay(reason string) {
	tr.killOnce.Do(func() {
		tr.killReason = reason
		tr.killNoDelay = true
		close(tr.killCh)
	})
}

// Restart stops the running task (its kill signal, then after its kill
// timeout a kill) and starts it again at once; the restart does not count
// against the restart policy. A task waiting out a restart delay starts at
// once. It fails with ErrTaskNotRunning for a task that is dead or was
// never started.
func (tr *TaskRunner) Restart() error {
	s := tr.State()
	if s.State == structs.TaskStateDead || (s.State == structs.TaskStatePending && s.Restarts == 0) {
		return fmt.Errorf("task %q: %w", tr.task.Name, ErrTaskNotRunning)
	}
	select {
	case tr.restartCh <- struct{}{}:
	default: // a restart is already asked for
	}
	return nil
}

// Signal sends sig to the running task and records a Signaling event.
func (tr *TaskRunner) Signal(ctx context.Context, sig string) error {
	h, err := tr.runningHandle()
	if err != nil {
		return err
	}
	sd, ok := tr.driver.(driver.SignalDriver)
	if !ok {
		return fmt.Errorf("signal: %w", ErrNotSupported)
	}
	if sig == "" {
		sig = "SIGKILL" // Nomad's default for alloc signal
	}
	tr.emit(signalingEvent(tr.clock.Now(), sig))
	return sd.SignalTask(ctx, h, sig)
}

// Exec runs a command inside the running task and returns its exit code.
func (tr *TaskRunner) Exec(ctx context.Context, opts *driver.ExecOptions) (int, error) {
	h, err := tr.runningHandle()
	if err != nil {
		return 0, err
	}
	ed, ok := tr.driver.(driver.ExecDriver)
	if !ok {
		return 0, fmt.Errorf("exec: %w", ErrNotSupported)
	}
	return ed.ExecTask(ctx, h, opts)
}

// Stats samples the running task's resource usage.
func (tr *TaskRunner) Stats(ctx context.Context) (*driver.TaskResourceUsage, error) {
	h, err := tr.runningHandle()
	if err != nil {
		return nil, err
	}
	sd, ok := tr.driver.(driver.StatsDriver)
	if !ok {
		return nil, fmt.Errorf("stats: %w", ErrNotSupported)
	}
	return sd.TaskStats(ctx, h)
}

// setHandle records the running task's handle (nil once it ended). A
// restart asked for before a start is satisfied by that start, so a
// pending request is dropped then rather than restarting the new task.
func (tr *TaskRunner) setHandle(h *driver.TaskHandle) {
	tr.mu.Lock()
	tr.handle = h
	tr.mu.Unlock()
	if h != nil {
		select {
		case <-tr.restartCh:
		default:
		}
	}
}

func (tr *TaskRunner) runningHandle() (*driver.TaskHandle, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.handle == nil || tr.state.State != structs.TaskStateRunning {
		return nil, fmt.Errorf("task %q: %w", tr.task.Name, ErrTaskNotRunning)
	}
	return tr.handle, nil
}

// shutdownDelay waits out the task's shutdown_delay before a kill, as
// Nomad does so that load balancers stop sending traffic first. It reports
// false when ctx ended during the wait.
func (tr *TaskRunner) shutdownDelay(ctx context.Context) bool {
	delay := tr.task.ShutdownDelay
	if delay <= 0 || tr.killNoDelay {
		return true
	}
	tr.emit(waitingShutdownDelayEvent(tr.clock.Now(), delay))
	timer := tr.clock.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-ctx.Done():
		return false
	}
}

func userRestartDecision() restartDecision {
	return restartDecision{restart: true, reason: userRestartReason}
}

func restartSignalEvent(now time.Time) *structs.TaskEvent {
	e := newEvent(now, structs.TaskRestartSignal, userRestartReason)
	e.RestartReason = userRestartReason
	e.Details["restart_reason"] = userRestartReason
	return e
}

func signalingEvent(now time.Time, sig string) *structs.TaskEvent {
	e := newEvent(now, structs.TaskSignaling, "Task being sent signal "+sig)
	e.Details["signal"] = sig
	return e
}

func waitingShutdownDelayEvent(now time.Time, delay time.Duration) *structs.TaskEvent {
	e := newEvent(now, structs.TaskWaitingShutdownDelay,
		fmt.Sprintf("Waiting for shutdown_delay of %s before killing the task.", delay))
	e.Details["shutdown_delay"] = delay.String()
	return e
}
