// Package allocrunner runs one allocation on the client: it lays out the
// allocation's directory, runs a task runner per task, stops tasks when a
// sibling fails or the leader ends, and sums the tasks' states into the
// allocation's client status for the servers.
package allocrunner

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/state"
	"github.com/drover-project/drover/client/taskrunner"
	"github.com/drover-project/drover/structs"
)

// Store persists the allocation and its tasks (client/state implements it).
type Store interface {
	taskrunner.Store
	PutAllocation(a *structs.Allocation) error
	DeleteAllocation(allocID string) error
	Tasks(allocID string) (map[string]*state.TaskRecord, error)
}

// Config is what an allocation runner needs.
type Config struct {
	Alloc   *structs.Allocation
	Node    *structs.Node
	HostIP  string
	Drivers map[string]driver.Driver
	DataDir string
	Store   Store
	Clock   clock.Clock
	Logger  *slog.Logger

	// PreviousDone returns the Done channel of another allocation this
	// client runs, or nil; a sticky disk waits on it (sticky.go).
	PreviousDone func(allocID string) <-chan struct{}

	// SecretsTmpfs mounts a tmpfs on each task's secrets/ (allocdir).
	SecretsTmpfs bool

	// OnUpdate receives the allocation (ID, ClientStatus,
	// ClientDescription, TaskStates) after each change. It must not block.
	OnUpdate func(update *structs.Allocation)

	// Services receives the allocation's service instances (services.go);
	// nil registers nothing.
	Services ServiceRegistry
}

// AllocRunner runs one allocation. Create it with New, then call Run.
type AllocRunner struct {
	cfg    Config
	dir    *allocdir.AllocDir
	logger *slog.Logger

	// changed wakes the watch loop when a task's state changes.
	changed chan struct{}
	// done is closed when every task is dead for good.
	done chan struct{}

	mu    sync.Mutex
	alloc *structs.Allocation
	tasks []*taskrunner.TaskRunner
	// invalid is why the allocation cannot run at all (no such group).
	invalid error
	// killed is set once the tasks were told to stop, so it is done once.
	killed bool
	// noShutdownDelay makes that stop skip the tasks' shutdown_delay.
	noShutdownDelay bool

	// phases starts tasks in lifecycle order (lifecycle.go); set by Run.
	phases *phases

	// health is the checks' statuses and the deployment health (health.go).
	health health

	// services registers the service instances (services.go); nil without a registry.
	services *services
}

// New prepares a runner for alloc, re-attaching to the tasks recorded in
// the store by an earlier client process.
func New(cfg Config) (*AllocRunner, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	ar := &AllocRunner{
		cfg:     cfg,
		dir:     allocdir.New(cfg.DataDir, cfg.Alloc.ID),
		logger:  cfg.Logger.With("alloc_id", cfg.Alloc.ID),
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
		alloc:   cfg.Alloc.Copy(),
	}
	ar.dir.Logger, ar.dir.SecretsTmpfs = ar.logger, cfg.SecretsTmpfs
	ar.services = newServices(cfg.Services, cfg.Alloc, cfg.Node, cfg.HostIP) // services.go
	tg := cfg.Alloc.Job.LookupTaskGroup(cfg.Alloc.TaskGroup)
	if tg == nil {
		ar.invalid = fmt.Errorf("task group %q not found in the allocation's job", cfg.Alloc.TaskGroup)
		return ar, nil
	}
	restored, err := cfg.Store.Tasks(cfg.Alloc.ID)
	if err != nil {
		return nil, err
	}
	for _, task := range tg.Tasks {
		trc := taskrunner.Config{
			Alloc:         cfg.Alloc,
			Task:          task,
			Node:          cfg.Node,
			HostIP:        cfg.HostIP,
			Driver:        cfg.Drivers[task.Driver],
			Dir:           ar.dir,
			Store:         cfg.Store,
			Clock:         cfg.Clock,
			Logger:        cfg.Logger,
			OnStateChange: ar.notify,
		}
		if rec := restored[task.Name]; rec != nil {
			trc.Handle, trc.State = rec.Handle, rec.State
		}
		ar.tasks = append(ar.tasks, taskrunner.New(trc))
	}
	return ar, nil
}

// ID is the allocation's ID.
func (ar *AllocRunner) ID() string { return ar.cfg.Alloc.ID }

// Dir is the allocation's directory.
func (ar *AllocRunner) Dir() *allocdir.AllocDir { return ar.dir }

// Done is closed when every task is dead for good.
func (ar *AllocRunner) Done() <-chan struct{} { return ar.done }

// TaskDone returns the Done channel of the named task.
func (ar *AllocRunner) TaskDone(task string) (<-chan struct{}, bool) {
	for _, tr := range ar.tasks {
		if tr.Name() == task {
			return tr.Done(), true
		}
	}
	return nil, false
}

// Alloc returns the allocation as the servers last sent it, with the
// client's status and task states filled in.
func (ar *AllocRunner) Alloc() *structs.Allocation {
	ar.mu.Lock()
	a := ar.alloc.Copy()
	invalid := ar.invalid
	ar.mu.Unlock()
	a.TaskStates = make(map[string]*structs.TaskState, len(ar.tasks))
	for _, tr := range ar.tasks {
		a.TaskStates[tr.Name()] = tr.State()
	}
	if invalid != nil {
		a.ClientStatus, a.ClientDescription = structs.AllocClientStatusFailed, invalid.Error()
	} else {
		a.ClientStatus, a.ClientDescription = ClientStatus(a.TaskStates)
	}
	return a
}

// Run builds the allocation's directory and runs its tasks. It returns when
// every task is dead for good, or when ctx ends (the client shuts down and
// leaves the tasks running).
func (ar *AllocRunner) Run(ctx context.Context) {
	if err := ar.cfg.Store.PutAllocation(ar.cfg.Alloc); err != nil {
		ar.logger.Error("failed to persist allocation", "error", err)
	}
	if ar.invalid == nil {
		names := make([]string, len(ar.tasks))
		for i, tr := range ar.tasks {
			names[i] = tr.Name()
		}
		if err := ar.dir.Build(names); err != nil {
			ar.mu.Lock()
			ar.invalid = fmt.Errorf("building allocation directory: %w", err)
			ar.mu.Unlock()
		}
	}
	if ar.invalid == nil {
		if err := ar.takeOverPreviousData(ctx); err != nil && ctx.Err() == nil {
			ar.logger.Warn("could not take over the previous allocation's data", "error", err)
		}
	}
	if ar.invalid == nil {
		if err := ar.setupGroupNetwork(ctx); err != nil {
			ar.mu.Lock()
			ar.invalid = err
			ar.mu.Unlock()
		}
	}
	if ar.invalid != nil {
		ar.logger.Error("allocation cannot run", "error", ar.invalid)
		ar.report()
		close(ar.done)
		return
	}

	var wg sync.WaitGroup
	ar.startLifecycle(ctx, &wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ar.runHealth(ctx) // health.go: checks, check_restart, deployment health
	}()
	allDone := make(chan struct{})
	go func() {
		for _, tr := range ar.tasks {
			select {
			case <-tr.Done():
			case <-ctx.Done():
				return
			}
		}
		close(allDone)
	}()
	// A stop that arrived before Run is applied now that tasks can hear it.
	ar.mu.Lock()
	stop := ar.alloc.ServerTerminal()
	ar.mu.Unlock()
	if stop {
		ar.killAll("allocation is being stopped")
	}

	ar.report()
	for {
		select {
		case <-ar.changed:
			ar.superviseTasks()
			ar.advance()
			ar.report()
		case <-allDone:
			ar.teardownGroupNetwork()
			ar.report()
			close(ar.done)
			wg.Wait()
			return
		case <-ctx.Done():
			wg.Wait()
			return
		}
	}
}

// notify wakes the watch loop; a pending wake-up covers any number of changes.
func (ar *AllocRunner) notify() {
	select {
	case ar.changed <- struct{}{}:
	default:
	}
}

// superviseTasks stops the others when a task failed for good or the
// leader task ended, as Nomad does: a group runs together or not at all.
func (ar *AllocRunner) superviseTasks() {
	for _, tr := range ar.tasks {
		s := tr.State()
		if s.State != structs.TaskStateDead {
			continue
		}
		if s.Failed {
			ar.killAll(fmt.Sprintf("Sibling task %q failed", tr.Name()))
			return
		}
		if isLeader(ar.cfg.Alloc, tr.Name()) {
			ar.killAll(fmt.Sprintf("Leader task %q is dead", tr.Name()))
			return
		}
	}
}

func isLeader(alloc *structs.Allocation, task string) bool {
	tg := alloc.Job.LookupTaskGroup(alloc.TaskGroup)
	t := tg.LookupTask(task)
	return t != nil && t.Leader
}

// killAll tells every task to stop for good (once).
func (ar *AllocRunner) killAll(reason string) {
	ar.mu.Lock()
	already := ar.killed
	ar.killed = true
	ar.mu.Unlock()
	if already {
		return
	}
	ar.logger.Info("stopping tasks", "reason", reason)
	ar.mu.Lock()
	noDelay := ar.noShutdownDelay
	ar.mu.Unlock()
	for _, tr := range ar.tasks {
		switch {
		case ar.isPoststop(tr.Name()):
			// Poststop tasks run after the others stopped (lifecycle.go).
		case noDelay:
			tr.KillWithoutDelay(reason)
		default:
			tr.Kill(reason)
		}
	}
	ar.notify() // the watch loop starts what must now run (lifecycle.go)
}

// report sends the current client status to OnUpdate.
func (ar *AllocRunner) report() {
	if ar.cfg.OnUpdate == nil {
		return
	}
	a := ar.Alloc()
	ar.unhealthyIfFailed(a.ClientStatus) // health.go
	ar.services.allocUpdated(a.ClientStatus, a.ServerTerminal())
	ar.cfg.OnUpdate(&structs.Allocation{
		ID:                a.ID,
		ClientStatus:      a.ClientStatus,
		ClientDescription: a.ClientDescription,
		TaskStates:        a.TaskStates,
		DeploymentStatus:  ar.deploymentStatus(),
	})
}

// Update takes a new version of the allocation from the servers. A desired
// status of stop or evict stops the tasks.
func (ar *AllocRunner) Update(alloc *structs.Allocation) {
	ar.mu.Lock()
	ar.alloc = alloc.Copy()
	ar.mu.Unlock()
	if err := ar.cfg.Store.PutAllocation(alloc); err != nil {
		ar.logger.Error("failed to persist allocation", "error", err)
	}
	if alloc.ServerTerminal() {
		ar.services.allocUpdated("", true) // out of traffic before any shutdown delay
		reason := alloc.DesiredDescription
		if reason == "" {
			reason = "allocation is being stopped"
		}
		ar.stopAfterShutdownDelay(alloc, reason)
	}
}

// Destroy stops the tasks, waits for them (each within its kill timeout)
// and forgets the allocation. The directory stays, so logs can still be
// read, until garbage collection removes it. The drivers' tasks (containers)
// are removed by the task runners as each task ends.
func (ar *AllocRunner) Destroy(ctx context.Context) error {
	ar.killAll("allocation was removed")
	select {
	case <-ar.done:
	case <-ctx.Done():
		return fmt.Errorf("destroying alloc %s: %w", ar.ID(), ctx.Err())
	}
	return ar.cfg.Store.DeleteAllocation(ar.ID())
}

// ClientStatus sums task states into the allocation's client status, as
// Nomad does: any failed task fails the allocation; otherwise it runs while
// any task runs, is pending while any task waits to (re)start, and is
// complete once every task is dead.
func ClientStatus(tasks map[string]*structs.TaskState) (status, description string) {
	var failed, running, pending bool
	for _, s := range tasks {
		switch s.State {
		case structs.TaskStateRunning:
			running = true
		case structs.TaskStatePending:
			pending = true
		case structs.TaskStateDead:
			failed = failed || s.Failed
		}
	}
	switch {
	case failed:
		return structs.AllocClientStatusFailed, "Failed tasks"
	case running:
		return structs.AllocClientStatusRunning, "Tasks are running"
	case pending:
		return structs.AllocClientStatusPending, "No tasks have started"
	default:
		return structs.AllocClientStatusComplete, "All tasks have completed"
	}
}
