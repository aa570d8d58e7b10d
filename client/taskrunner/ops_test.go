package taskrunner

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/structs"
)

func TestShutdownDelayWaitsBeforeTheKill(t *testing.T) {
	d := mock.New()
	alloc := testAlloc(structs.JobTypeService, nil, args("run_for=1h"))
	alloc.Job.TaskGroups[0].Tasks[0].ShutdownDelay = 5 * time.Second
	h := newHarness(t, alloc, d, nil, nil)
	h.run()
	waitFor(t, "task running", func() bool { return h.tr.State().State == structs.TaskStateRunning })
	h.tr.Kill("alloc stopped")
	waitFor(t, "the shutdown delay's timer", func() bool { return h.clock.Timers() == 1 })
	if d.Running() != 1 {
		t.Fatal("task stopped before its shutdown delay passed")
	}
	if got := lastEvent(h.tr.State()).Type; got != structs.TaskWaitingShutdownDelay {
		t.Errorf("last event %q", got)
	}
	h.clock.Advance(5 * time.Second)
	s := h.finish()
	if types := eventTypes(s); !slices.Equal(types[len(types)-3:], []string{structs.TaskWaitingShutdownDelay, structs.TaskKilling, structs.TaskKilled}) {
		t.Errorf("events %v", types)
	}
}

func TestKillWithoutDelaySkipsShutdownDelay(t *testing.T) {
	d := mock.New()
	alloc := testAlloc(structs.JobTypeService, nil, args("run_for=1h"))
	alloc.Job.TaskGroups[0].Tasks[0].ShutdownDelay = time.Hour
	h := newHarness(t, alloc, d, nil, nil)
	h.run()
	waitFor(t, "task running", func() bool { return h.tr.State().State == structs.TaskStateRunning })
	h.tr.KillWithoutDelay("alloc stopped")
	<-h.tr.Done()
	if slices.Contains(eventTypes(h.tr.State()), structs.TaskWaitingShutdownDelay) {
		t.Error("waited for the shutdown delay")
	}
}

func TestEphemeralLifecycleTaskIsNotRestartedOnSuccess(t *testing.T) {
	alloc := testAlloc(structs.JobTypeService, nil, args("exit_code=0"))
	alloc.Job.TaskGroups[0].Tasks[0].Lifecycle = &structs.TaskLifecycleConfig{Hook: structs.TaskLifecycleHookPrestart}
	h := newHarness(t, alloc, mock.New(), nil, nil)
	h.run()
	s := h.finish()
	if s.Restarts != 0 || s.Failed {
		t.Errorf("state %+v", s)
	}
}

func TestTaskRestartPolicyWinsOverGroup(t *testing.T) {
	alloc := testAlloc(structs.JobTypeService,
		&structs.RestartPolicy{Attempts: 5, Interval: time.Hour, Delay: time.Second, Mode: structs.RestartModeFail},
		args("exit_code=1"))
	alloc.Job.TaskGroups[0].Tasks[0].RestartPolicy = &structs.RestartPolicy{Attempts: 1, Interval: time.Hour, Delay: time.Second, Mode: structs.RestartModeFail}
	h := newHarness(t, alloc, mock.New(), nil, nil)
	h.run()
	s := h.finish()
	if s.Restarts != 1 || !s.Failed {
		t.Errorf("restarts %d failed %v, want 1 restart then failure", s.Restarts, s.Failed)
	}
}

func TestOperationsNeedARunningTask(t *testing.T) {
	alloc := testAlloc(structs.JobTypeService, nil, args("run_for=1h"))
	h := newHarness(t, alloc, mock.New(), nil, nil)
	if err := h.tr.Restart(); !errors.Is(err, ErrTaskNotRunning) {
		t.Errorf("restart before start: %v", err)
	}
	if _, err := h.tr.Stats(h.ctx); !errors.Is(err, ErrTaskNotRunning) {
		t.Errorf("stats before start: %v", err)
	}
}
