// Package taskrunner runs one task of an allocation through its life: build
// the driver config, start, wait, restart by the group's restart policy,
// stop on request, and keep the task's state and events for the servers.
package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/taskenv"
	"github.com/drover-project/drover/structs"
)

// Store persists what a restarted client needs to re-attach to a task.
type Store interface {
	PutTaskHandle(allocID, task string, h *driver.TaskHandle) error
	PutTaskState(allocID, task string, s *structs.TaskState) error
}

// Config is what a task runner needs.
type Config struct {
	Alloc  *structs.Allocation
	Task   *structs.Task
	Node   *structs.Node
	HostIP string        // where ports are published when the allocation does not say
	Driver driver.Driver // nil when the node lacks the task's driver: the task fails
	Dir    *allocdir.AllocDir

	// Handle and State come from an earlier client process (both may be
	// nil): the runner re-attaches to Handle instead of starting anew.
	Handle *driver.TaskHandle
	State  *structs.TaskState

	Store  Store       // nil keeps nothing
	Clock  clock.Clock // nil is the real clock
	Logger *slog.Logger

	// OnStateChange is called after every change of the task's state, with
	// no lock held.
	OnStateChange func()
}

// TaskRunner runs one task. Create it with New, then call Run.
type TaskRunner struct {
	alloc    *structs.Allocation
	task     *structs.Task
	node     *structs.Node
	hostIP   string
	driver   driver.Driver
	dir      *allocdir.AllocDir
	store    Store
	clock    clock.Clock
	logger   *slog.Logger
	onChange func()
	restarts *restartTracker
	restored *driver.TaskHandle

	mu    sync.Mutex
	state *structs.TaskState

	killOnce   sync.Once
	killCh     chan struct{}
	killReason string
	// killNoDelay skips the task's shutdown_delay (alloc stop -no-shutdown-delay).
	killNoDelay bool

	// pod is what the task shares with its group (pod.go).
	pod podState

	// restartCh carries a user's restart request (alloc restart) to Run;
	// handle is the running task's, for exec, signals and stats (ops.go).
	restartCh chan struct{}
	handle    *driver.TaskHandle

	done chan struct{}
}

// New prepares a runner; the task starts when Run is called.
func New(cfg Config) *TaskRunner {
	tr := &TaskRunner{
		alloc:    cfg.Alloc,
		task:     cfg.Task,
		node:     cfg.Node,
		hostIP:   cfg.HostIP,
		driver:   cfg.Driver,
		dir:      cfg.Dir,
		store:    cfg.Store,
		clock:    clock.OrReal(cfg.Clock),
		logger:   cfg.Logger,
		onChange: cfg.OnStateChange,
		restored: cfg.Handle,
		killCh:   make(chan struct{}),
		done:     make(chan struct{}),

		restartCh: make(chan struct{}, 1),
	}
	if tr.logger == nil {
		tr.logger = slog.Default()
	}
	if tr.store == nil {
		tr.store = noStore{}
	}
	tr.logger = tr.logger.With("alloc_id", cfg.Alloc.ID, "task", cfg.Task.Name)
	// The task's own restart policy (its group's, merged under the task's
	// restart block by Canonicalize) wins over the group's.
	policy := cfg.Task.RestartPolicy
	jobType := structs.JobTypeService
	if cfg.Alloc.Job != nil {
		jobType = cfg.Alloc.Job.Type
		if tg := cfg.Alloc.Job.LookupTaskGroup(cfg.Alloc.TaskGroup); tg != nil && policy == nil {
			policy = tg.RestartPolicy
		}
	}
	tr.restarts = newRestartTracker(policy, jobType)
	tr.restarts.ephemeral = cfg.Task.Lifecycle.IsEphemeral()

	if cfg.State != nil {
		tr.state = cfg.State.Copy()
	} else {
		tr.state = &structs.TaskState{State: structs.TaskStatePending}
		tr.appendEvent(receivedEvent(tr.clock.Now()))
	}
	return tr
}

// Name is the task's name.
func (tr *TaskRunner) Name() string { return tr.task.Name }

// State returns a copy of the task's state.
func (tr *TaskRunner) State() *structs.TaskState {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.state.Copy()
}

// Done is closed when the task is dead for good: it will not run again.
func (tr *TaskRunner) Done() <-chan struct{} { return tr.done }

// Kill asks the task to stop for good, without restarting: the driver gets
// the task's kill signal and, after its kill timeout, kills it. It returns
// at once; Done closes when the task is dead.
func (tr *TaskRunner) Kill(reason string) {
	tr.killOnce.Do(func() {
		tr.killReason = reason
		close(tr.killCh)
	})
}

func (tr *TaskRunner) killed() bool {
	select {
	case <-tr.killCh:
		return true
	default:
		return false
	}
}

// Run drives the task until it is dead for good, or until ctx ends (the
// client shuts down and leaves the task running, to re-attach later).
func (tr *TaskRunner) Run(ctx context.Context) {
	if tr.State().State == structs.TaskStateDead {
		close(tr.done) // it ended under an earlier client process
		return
	}
	h := tr.recover(ctx)
	if h == nil && !tr.killed() {
		tr.emit(setupEvent(tr.clock.Now()))
	}
	for {
		if h == nil {
			if tr.killed() {
				tr.die(false, killedEvent(tr.clock.Now()))
				return
			}
			var err error
			h, err = tr.start(ctx)
			if ctx.Err() != nil {
				return // shutting down; a started task is re-attached later
			}
			var setupErr *setupError
			switch {
			case errors.As(err, &setupErr):
				tr.die(true, setupFailureEvent(tr.clock.Now(), setupErr.err))
				return
			case err != nil && tr.killed():
				tr.die(false, killedEvent(tr.clock.Now())) // the kill cut the start short
				return
			case err != nil:
				tr.emit(driverFailureEvent(tr.clock.Now(), err))
				if !tr.startFailure(ctx, err) {
					return
				}
				continue
			}
		}

		res, end := tr.wait(ctx, h)
		if ctx.Err() != nil {
			return // shutting down: leave the task and its handle as they are
		}
		tr.destroyHandle(ctx, h)
		h = nil
		if end == waitKilled {
			tr.die(false, killedEvent(tr.clock.Now()))
			return
		}
		tr.emit(terminatedEvent(tr.clock.Now(), res))
		if end == waitRestarted {
			// A user's restart does not count against the restart policy.
			if !tr.restartOrDie(ctx, userRestartDecision()) {
				return
			}
			continue
		}
		if !tr.restartOrDie(ctx, tr.restarts.next(tr.clock.Now(), res.Successful())) {
			return
		}
	}
}

// recover re-attaches to the handle of an earlier client process. When the
// driver no longer knows the task, the handle is dropped and the task starts
// anew.
func (tr *TaskRunner) recover(ctx context.Context) *driver.TaskHandle {
	h := tr.restored
	if h == nil || tr.driver == nil {
		return nil
	}
	if err := tr.driver.RecoverTask(ctx, h); err != nil {
		tr.logger.Warn("could not recover task, starting it again", "error", err)
		if err := tr.store.PutTaskHandle(tr.alloc.ID, tr.task.Name, nil); err != nil {
			tr.logger.Error("failed to forget task handle", "error", err)
		}
		return nil
	}
	tr.logger.Info("recovered task")
	tr.setHandle(h)
	tr.update(func(s *structs.TaskState) { s.State = structs.TaskStateRunning })
	return h
}

// setupError marks a failure that restarting cannot fix (a bad config).
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }

// start builds the task's config and asks the driver to start it.
func (tr *TaskRunner) start(ctx context.Context) (*driver.TaskHandle, error) {
	if tr.driver == nil {
		return nil, &setupError{fmt.Errorf("driver %q is not available on this node", tr.task.Driver)}
	}
	env := taskenv.Build(tr.node, tr.alloc, tr.task, tr.hostIP)
	cfg, err := buildTaskConfig(tr.alloc, tr.task, env, tr.dir, tr.hostIP)
	if err != nil {
		return nil, &setupError{err}
	}
	if err := tr.preparePod(cfg); err != nil {
		return nil, &setupError{err}
	}
	// A kill cancels a start in progress (an image pull can take minutes).
	startCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-tr.killCh:
			cancel()
		case <-startCtx.Done():
		}
	}()
	h, err := tr.driver.StartTask(startCtx, cfg)
	if errors.Is(err, driver.ErrInvalidConfig) {
		return nil, &setupError{err}
	}
	if err != nil {
		return nil, err
	}
	tr.pullSucceeded()
	if err := tr.store.PutTaskHandle(tr.alloc.ID, tr.task.Name, h); err != nil {
		// The task runs; only re-attaching after a client restart is at risk.
		tr.logger.Error("failed to persist task handle", "error", err)
	}
	tr.setHandle(h)
	now := tr.clock.Now()
	tr.update(func(s *structs.TaskState) {
		s.State = structs.TaskStateRunning
		if s.StartedAt.IsZero() {
			s.StartedAt = now
		}
		appendEvent(s, startedEvent(now))
	})
	return h, nil
}

// waitEnd says why wait returned.
type waitEnd int

const (
	waitExited    waitEnd = iota // the task exited by itself (or ctx ended)
	waitKilled                   // Kill stopped it
	waitRestarted                // Restart stopped it, to start again
)

// wait blocks until the task exits, and stops it first if Kill or Restart
// is called. It returns a nil result only when ctx ended.
func (tr *TaskRunner) wait(ctx context.Context, h *driver.TaskHandle) (*driver.ExitResult, waitEnd) {
	ch, err := tr.driver.WaitTask(ctx, h)
	if err != nil {
		return &driver.ExitResult{Err: fmt.Errorf("waiting for task: %w", err)}, waitExited
	}
	end := waitKilled
	select {
	case res, ok := <-ch:
		return tr.result(ctx, res, ok), waitExited
	case <-ctx.Done():
		return nil, waitExited
	case <-tr.killCh:
		if !tr.shutdownDelay(ctx) {
			return nil, waitExited
		}
	case <-tr.restartCh:
		end = waitRestarted
		tr.emit(restartSignalEvent(tr.clock.Now()))
	}

	timeout := killTimeout(tr.task)
	tr.emit(killingEvent(tr.clock.Now(), timeout, tr.killReason))
	if err := tr.driver.StopTask(ctx, h, timeout, tr.task.KillSignal); err != nil {
		tr.logger.Warn("failed to stop task, destroying it", "error", err)
		if err := tr.driver.DestroyTask(ctx, h, true); err != nil {
			tr.logger.Error("failed to destroy task", "error", err)
		}
	}
	select {
	case res, ok := <-ch:
		return tr.result(ctx, res, ok), end
	case <-ctx.Done():
		return nil, end
	}
}

// result turns a receive from the driver's wait channel into a result.
func (tr *TaskRunner) result(ctx context.Context, res *driver.ExitResult, ok bool) *driver.ExitResult {
	if ok && res != nil {
		return res
	}
	if ctx.Err() != nil {
		return nil
	}
	return &driver.ExitResult{Err: errors.New("driver closed the wait channel without a result")}
}

// destroyHandle removes the exited task's container (its output is in the
// log files) so a restart can create a fresh one.
func (tr *TaskRunner) destroyHandle(ctx context.Context, h *driver.TaskHandle) {
	tr.setHandle(nil)
	if err := tr.driver.DestroyTask(ctx, h, true); err != nil {
		tr.logger.Warn("failed to destroy exited task", "error", err)
	}
	if err := tr.store.PutTaskHandle(tr.alloc.ID, tr.task.Name, nil); err != nil {
		tr.logger.Error("failed to forget task handle", "error", err)
	}
}

// restartOrDie applies a restart decision: it waits out the delay and
// returns true to start again, or marks the task dead and returns false.
func (tr *TaskRunner) restartOrDie(ctx context.Context, d restartDecision) bool {
	now := tr.clock.Now()
	if !d.restart {
		if d.failed {
			tr.die(true, notRestartingEvent(now, d))
		} else {
			tr.die(false, nil)
		}
		return false
	}
	tr.update(func(s *structs.TaskState) {
		s.State = structs.TaskStatePending
		s.Restarts++
		s.LastRestart = now
		appendEvent(s, restartingEvent(now, d))
	})
	timer := tr.clock.NewTimer(d.delay)
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-tr.restartCh:
		return true // a user's restart cuts the delay short
	case <-tr.killCh:
		tr.die(false, killedEvent(tr.clock.Now()))
		return false
	case <-ctx.Done():
		return false
	}
}

// die marks the task dead for good, with an optional last event.
func (tr *TaskRunner) die(failed bool, last *structs.TaskEvent) {
	now := tr.clock.Now()
	tr.change(func(s *structs.TaskState) {
		s.State = structs.TaskStateDead
		s.Failed = s.Failed || failed
		s.FinishedAt = now
		if last != nil {
			appendEvent(s, last)
		}
	})
	// Done closes before the change is announced, so whoever is told of it
	// already sees the task as done.
	close(tr.done)
	tr.notify()
}

// emit records an event.
func (tr *TaskRunner) emit(e *structs.TaskEvent) {
	tr.update(func(s *structs.TaskState) { appendEvent(s, e) })
}

// appendEvent is for New, before anyone else can see the runner.
func (tr *TaskRunner) appendEvent(e *structs.TaskEvent) { appendEvent(tr.state, e) }

// update changes the state, then persists and announces it.
func (tr *TaskRunner) update(fn func(s *structs.TaskState)) {
	tr.change(fn)
	tr.notify()
}

// change changes the state under the lock and persists it.
func (tr *TaskRunner) change(fn func(s *structs.TaskState)) {
	tr.mu.Lock()
	fn(tr.state)
	snapshot := tr.state.Copy()
	tr.mu.Unlock()
	if err := tr.store.PutTaskState(tr.alloc.ID, tr.task.Name, snapshot); err != nil {
		tr.logger.Error("failed to persist task state", "error", err)
	}
}

// notify tells the allocation runner that the state changed.
func (tr *TaskRunner) notify() {
	if tr.onChange != nil {
		tr.onChange()
	}
}

// appendEvent adds e, keeping the newest MaxTaskEvents; an event that fails
// the task marks the state failed.
func appendEvent(s *structs.TaskState, e *structs.TaskEvent) {
	s.Events = append(s.Events, e)
	if n := len(s.Events) - structs.MaxTaskEvents; n > 0 {
		s.Events = append([]*structs.TaskEvent(nil), s.Events[n:]...)
	}
	if e.FailsTask {
		s.Failed = true
	}
}

// killTimeout is how long the driver waits between signal and kill.
func killTimeout(t *structs.Task) time.Duration {
	if t.KillTimeout > 0 {
		return t.KillTimeout
	}
	return structs.DefaultKillTimeout
}

// noStore is the Store of a runner that keeps nothing.
type noStore struct{}

func (noStore) PutTaskHandle(string, string, *driver.TaskHandle) error { return nil }
func (noStore) PutTaskState(string, string, *structs.TaskState) error  { return nil }
