package allocrunner

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

func withHook(t *structs.Task, hook string, sidecar bool) *structs.Task {
	t.Lifecycle = &structs.TaskLifecycleConfig{Hook: hook, Sidecar: sidecar}
	return t
}

// startOrder is the order in which the driver started tasks, by name.
func startOrder(h *harness) []string {
	var names []string
	for _, cfg := range h.driver.Started() {
		names = append(names, cfg.TaskName)
	}
	return names
}

func TestLifecycleOrder(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeBatch,
		withHook(mockTask("cleanup", "run_for=1ms"), structs.TaskLifecycleHookPoststop, false),
		withHook(mockTask("after", "run_for=1ms"), structs.TaskLifecycleHookPoststart, false),
		mockTask("main", "run_for=50ms"),
		withHook(mockTask("init", "run_for=30ms"), structs.TaskLifecycleHookPrestart, false),
		withHook(mockTask("side", "run_for=1h"), structs.TaskLifecycleHookPrestart, true),
	))
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusComplete)

	order := startOrder(h)
	pos := func(name string) int {
		i := slices.Index(order, name)
		if i < 0 {
			t.Fatalf("task %s never started; order %v", name, order)
		}
		return i
	}
	// Prestart tasks (init, side) first, then main, then after, and the
	// poststop cleanup last.
	if pos("main") < pos("init") || pos("main") < pos("side") || pos("after") < pos("main") || pos("cleanup") != len(order)-1 {
		t.Errorf("start order %v", order)
	}
	states := h.rec.last().TaskStates
	for name, s := range states {
		if s.State != structs.TaskStateDead || s.Failed {
			t.Errorf("task %s = %s failed=%v", name, s.State, s.Failed)
		}
	}
	// The sidecar ran beside main and was stopped once main was dead.
	var reason string
	for _, e := range states["side"].Events {
		if e.Type == structs.TaskKilling {
			reason = e.Details["kill_reason"]
		}
	}
	if reason != "Main tasks dead" {
		t.Errorf("sidecar kill reason %q, events %+v", reason, states["side"].Events)
	}
}

func TestFailedPrestartStopsTheAllocation(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService,
		withHook(mockTask("init", "exit_code=3"), structs.TaskLifecycleHookPrestart, false),
		mockTask("main", "run_for=1h"),
		withHook(mockTask("cleanup"), structs.TaskLifecycleHookPoststop, false),
	))
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusFailed)
	order := startOrder(h)
	if slices.Contains(order, "main") {
		t.Errorf("main started after a failed prestart: %v", order)
	}
	// The prestart task ran, so the poststop task cleans up after it.
	if !slices.Equal(order, []string{"init", "cleanup"}) {
		t.Errorf("start order %v", order)
	}
	if s := h.rec.last().TaskStates["main"]; s.State != structs.TaskStateDead || !s.StartedAt.IsZero() {
		t.Errorf("main = %+v", s)
	}
}

func TestPoststopRunsAfterStop(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService,
		mockTask("web", "run_for=1h"),
		withHook(mockTask("cleanup", "stdout=bye"), structs.TaskLifecycleHookPoststop, false),
	))
	waitStatus(t, h, structs.AllocClientStatusRunning)
	if slices.Contains(startOrder(h), "cleanup") {
		t.Fatal("poststop task started while the main task runs")
	}
	stopped := h.ar.Alloc()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	h.ar.Update(stopped)
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusComplete)
	if order := startOrder(h); !slices.Equal(order, []string{"web", "cleanup"}) {
		t.Errorf("start order %v", order)
	}
}

func TestRestartSignalExecStats(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService, mockTask("web", "run_for=1h")))
	waitStatus(t, h, structs.AllocClientStatusRunning)

	var out strings.Builder
	code, err := h.ar.Exec(context.Background(), "web", &driver.ExecOptions{Command: []string{"exit", "3"}, Stdout: &out})
	if err != nil || code != 3 {
		t.Errorf("exec exit 3 = %d, %v", code, err)
	}
	if _, err := h.ar.Exec(context.Background(), "nope", &driver.ExecOptions{Command: []string{"echo"}}); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("exec in an unknown task: %v", err)
	}
	if err := h.ar.Signal(context.Background(), "", "SIGHUP"); err != nil {
		t.Fatal(err)
	}
	if got := h.driver.Signals("web"); !slices.Equal(got, []string{"SIGHUP"}) {
		t.Errorf("signals %v", got)
	}
	stats, err := h.ar.Stats(context.Background(), "", 2000)
	if err != nil {
		t.Fatal(err)
	}
	if u := stats.Tasks["web"]; u == nil || u.ResourceUsage.MemoryStats.RSS != 10<<20 || u.ResourceUsage.CpuStats.TotalTicks != 100 {
		t.Errorf("stats %+v", stats.Tasks["web"])
	}

	if err := h.ar.Restart("web"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := h.ar.Alloc().TaskStates["web"]
		if s.Restarts == 1 && s.State == structs.TaskStateRunning && len(h.driver.Started()) == 2 {
			types := make([]string, len(s.Events))
			for i, e := range s.Events {
				types[i] = e.Type
			}
			want := []string{structs.TaskRestartSignal, structs.TaskKilling, structs.TaskTerminated, structs.TaskRestarting, structs.TaskStarted}
			if !slices.Equal(types[len(types)-len(want):], want) {
				t.Errorf("events %v", types)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task not restarted: %+v", s)
		}
		time.Sleep(time.Millisecond)
	}
}

// A sidecar waiting out a restart delay when the main task ends is stopped
// too, so the allocation completes.
func TestSidecarInRestartDelayIsStoppedWithMain(t *testing.T) {
	side := withHook(mockTask("side", "run_for=1s", "exit_code=1"), structs.TaskLifecycleHookPrestart, true)
	side.RestartPolicy = &structs.RestartPolicy{Attempts: 3, Interval: time.Hour, Delay: time.Hour, Mode: structs.RestartModeFail}
	h := start(t, testAlloc(structs.JobTypeBatch, side, mockTask("main", "run_for=1500ms")))
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusComplete)
	if s := h.rec.last().TaskStates["side"]; s.Restarts != 1 || s.Failed {
		t.Errorf("sidecar = %+v", s)
	}
}
