package allocrunner

import (
	"context"
	"fmt"
	"sync"

	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/client/taskrunner"
	"github.com/drover-project/drover/structs"
)

// The order in which a group's tasks start and stop, as Nomad's lifecycle
// hooks define it:
//
//  1. prestart tasks start first. Those without sidecar must exit
//     successfully, and sidecars must be running, before anything else starts.
//  2. main tasks (no lifecycle block) start.
//  3. poststart tasks start once every main task has started.
//  4. when every main task is dead, the sidecars still running are stopped.
//  5. poststop tasks start once every other task is dead (also after a
//     stop or a failure), provided some task ever ran.
//
// advance applies these rules to the tasks' current states each time one
// changes; a task runner is only Run when its phase comes. A task whose
// phase never comes (a failed prestart) is Run after it was killed, so it
// is marked dead at once and the allocation can finish.

// phases tracks which task runners were started, and where.
type phases struct {
	ctx     context.Context
	wg      *sync.WaitGroup
	started map[string]bool
}

// startLifecycle begins the allocation's tasks under ctx; wg counts the
// task runners started, now and later.
func (ar *AllocRunner) startLifecycle(ctx context.Context, wg *sync.WaitGroup) {
	ar.phases = &phases{ctx: ctx, wg: wg, started: map[string]bool{}}
	// A task an earlier client process started is re-attached at once,
	// whatever its phase: its phase had come.
	for _, tr := range ar.tasks {
		if s := tr.State(); s.State == structs.TaskStateDead || !s.StartedAt.IsZero() {
			ar.startTask(tr)
		}
	}
	ar.advance()
}

// startTask runs a task runner once.
func (ar *AllocRunner) startTask(tr *taskrunner.TaskRunner) {
	p := ar.phases
	if p == nil || p.started[tr.Name()] {
		return
	}
	p.started[tr.Name()] = true
	p.wg.Go(func() { tr.Run(p.ctx) })
}

// lifecycleOf returns the task's lifecycle block (nil for a main task).
func (ar *AllocRunner) lifecycleOf(name string) *structs.TaskLifecycleConfig {
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	if tg == nil {
		return nil
	}
	if t := tg.LookupTask(name); t != nil {
		return t.Lifecycle
	}
	return nil
}

func (ar *AllocRunner) isPoststop(name string) bool {
	l := ar.lifecycleOf(name)
	return l != nil && l.Hook == structs.TaskLifecycleHookPoststop
}

// advance starts the tasks whose phase has come and stops the sidecars
// once the main tasks are done. It runs on the allocation's watch loop.
func (ar *AllocRunner) advance() {
	if ar.phases == nil {
		return
	}
	ar.mu.Lock()
	killed := ar.killed
	ar.mu.Unlock()

	var prestartDone, mainStarted, mainDead, othersDead, anyRan = true, true, true, true, false
	for _, tr := range ar.tasks {
		s := tr.State()
		l := ar.lifecycleOf(tr.Name())
		dead := s.State == structs.TaskStateDead
		anyRan = anyRan || !s.StartedAt.IsZero()
		switch {
		case l.IsMain():
			mainStarted = mainStarted && (!s.StartedAt.IsZero() || dead)
			mainDead = mainDead && dead
		case l.Hook == structs.TaskLifecycleHookPrestart && l.Sidecar:
			prestartDone = prestartDone && s.State == structs.TaskStateRunning
		case l.Hook == structs.TaskLifecycleHookPrestart:
			prestartDone = prestartDone && dead && !s.Failed
		}
		if l == nil || l.Hook != structs.TaskLifecycleHookPoststop {
			othersDead = othersDead && dead
		}
	}

	for _, tr := range ar.tasks {
		l := ar.lifecycleOf(tr.Name())
		var start bool
		switch {
		case l != nil && l.Hook == structs.TaskLifecycleHookPoststop:
			start = othersDead && anyRan
		case killed:
			// Killed before its phase came: running it marks it dead.
			start = true
		case l.IsMain():
			start = prestartDone
		case l.Hook == structs.TaskLifecycleHookPrestart:
			start = true
		case l.Hook == structs.TaskLifecycleHookPoststart:
			start = prestartDone && mainStarted
		}
		if start {
			ar.startTask(tr)
		}
	}
	if othersDead && !anyRan {
		// Nothing ever ran (stopped before it started): the poststop
		// tasks have nothing to clean up, so they end unrun.
		for _, tr := range ar.tasks {
			if ar.isPoststop(tr.Name()) {
				tr.Kill("no task of the allocation ran")
				ar.startTask(tr)
			}
		}
	}
	if mainDead && !killed {
		ar.stopSidecars()
	}
}

// stopSidecars stops the sidecars (prestart or poststart) still running
// beside main tasks that are all dead; lifecycle tasks that are not
// sidecars run to completion.
func (ar *AllocRunner) stopSidecars() {
	for _, tr := range ar.tasks {
		if l := ar.lifecycleOf(tr.Name()); l == nil || !l.Sidecar {
			continue
		}
		if tr.State().State != structs.TaskStateDead {
			tr.Kill("Main tasks dead")
		}
	}
}

// stopAfterShutdownDelay stops the tasks for a server stop after the
// group's shutdown_delay, unless the stop asks to skip it.
func (ar *AllocRunner) stopAfterShutdownDelay(alloc *structs.Allocation, reason string) {
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	noDelay := alloc.DesiredTransition.ShouldIgnoreShutdownDelay()
	ar.mu.Lock()
	ar.noShutdownDelay = noDelay
	ar.mu.Unlock()
	if tg == nil || tg.ShutdownDelay <= 0 || noDelay {
		ar.killAll(reason)
		return
	}
	ar.logger.Info("waiting for the group's shutdown delay before stopping tasks", "delay", tg.ShutdownDelay)
	go func() {
		timer := clock.OrReal(ar.cfg.Clock).NewTimer(tg.ShutdownDelay)
		defer timer.Stop()
		select {
		case <-timer.C():
		case <-ar.done:
			return
		}
		ar.killAll(fmt.Sprintf("%s (after the group's shutdown_delay of %s)", reason, tg.ShutdownDelay))
	}()
}
