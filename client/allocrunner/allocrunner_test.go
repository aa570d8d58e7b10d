package allocrunner

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/client/state"
	"github.com/drover-project/drover/structs"
)

func mockTask(name string, args ...string) *structs.Task {
	list := make([]any, len(args))
	for i, a := range args {
		list[i] = a
	}
	return &structs.Task{Name: name, Driver: mock.Name, Config: map[string]any{"args": list},
		Resources: &structs.Resources{CPU: 100, MemoryMB: 64}}
}

func testAlloc(jobType string, tasks ...*structs.Task) *structs.Allocation {
	job := &structs.Job{
		ID: "job", Name: "job", Namespace: "default", Type: jobType,
		TaskGroups: []*structs.TaskGroup{{
			Name: "group", Tasks: tasks,
			RestartPolicy: &structs.RestartPolicy{Attempts: 0, Interval: time.Hour, Delay: time.Second, Mode: structs.RestartModeFail},
		}},
	}
	return &structs.Allocation{ID: "alloc-1", Name: "job.group[0]", JobID: "job", Job: job, TaskGroup: "group",
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending}
}

// recorder keeps the updates an allocation runner reports.
type recorder struct {
	mu      sync.Mutex
	updates []*structs.Allocation
}

func (r *recorder) add(a *structs.Allocation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, a)
}

func (r *recorder) statuses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.updates {
		if len(out) == 0 || out[len(out)-1] != u.ClientStatus {
			out = append(out, u.ClientStatus)
		}
	}
	return out
}

func (r *recorder) last() *structs.Allocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.updates) == 0 {
		return nil
	}
	return r.updates[len(r.updates)-1]
}

type harness struct {
	ar      *AllocRunner
	db      *state.DB
	dataDir string
	rec     *recorder
	driver  *mock.Driver
	ran     chan struct{}
}

func start(t *testing.T, alloc *structs.Allocation) *harness {
	t.Helper()
	dataDir := t.TempDir()
	db, err := state.Open(filepath.Join(dataDir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{db: db, dataDir: dataDir, rec: &recorder{}, driver: mock.New(), ran: make(chan struct{})}
	h.ar, err = New(Config{
		Alloc:    alloc,
		Node:     &structs.Node{ID: "node-1"},
		HostIP:   "127.0.0.1",
		Drivers:  map[string]driver.Driver{mock.Name: h.driver},
		DataDir:  dataDir,
		Store:    db,
		Clock:    clocktest.NewFake(),
		OnUpdate: h.rec.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(h.ran)
		h.ar.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-h.ran
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

func waitStatus(t *testing.T, h *harness, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if last := h.rec.last(); last != nil && last.ClientStatus == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never became %s; reported %v, alloc %+v", status, h.rec.statuses(), h.ar.Alloc())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBatchAllocCompletes(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeBatch, mockTask("a", "run_for=20ms"), mockTask("b", "run_for=10ms")))
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusComplete)
	for _, s := range h.rec.statuses() {
		if s == structs.AllocClientStatusFailed {
			t.Fatalf("statuses %v", h.rec.statuses())
		}
	}
	last := h.rec.last()
	if last.ID != "alloc-1" || len(last.TaskStates) != 2 || last.ClientDescription != "All tasks have completed" {
		t.Errorf("last update = %+v", last)
	}
	for _, p := range []string{"alloc/logs", "a/local", "a/secrets", "b/local", "b/secrets"} {
		if _, err := os.Stat(filepath.Join(h.dataDir, "alloc", "alloc-1", p)); err != nil {
			t.Errorf("alloc dir: %v", err)
		}
	}
}

func TestStopOnDesiredStop(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService, mockTask("web", "run_for=1h")))
	waitStatus(t, h, structs.AllocClientStatusRunning)
	stopped := h.ar.Alloc()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	stopped.AllocModifyIndex++
	h.ar.Update(stopped)
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusComplete)
	ts := h.rec.last().TaskStates["web"]
	if ts.Failed || ts.Events[len(ts.Events)-1].Type != structs.TaskKilled {
		t.Errorf("task state = %+v", ts)
	}
	if h.driver.Running() != 0 {
		t.Error("task still running")
	}
}

func TestFailedTaskKillsSiblings(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService, mockTask("web", "run_for=1h"), mockTask("sidecar", "exit_code=2")))
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusFailed)
	web := h.rec.last().TaskStates["web"]
	if web.State != structs.TaskStateDead || web.Failed {
		t.Errorf("web = %+v", web)
	}
	var reason string
	for _, e := range web.Events {
		if e.Type == structs.TaskKilling {
			reason = e.Details["kill_reason"]
		}
	}
	if reason != `Sibling task "sidecar" failed` {
		t.Errorf("kill reason = %q", reason)
	}
}

func TestLeaderEndKillsOthers(t *testing.T) {
	leader := mockTask("main", "run_for=10ms")
	leader.Leader = true
	h := start(t, testAlloc(structs.JobTypeBatch, leader, mockTask("helper", "run_for=1h")))
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusComplete)
}

func TestUnknownGroupFails(t *testing.T) {
	alloc := testAlloc(structs.JobTypeService, mockTask("web"))
	alloc.TaskGroup = "nope"
	h := start(t, alloc)
	<-h.ar.Done()
	waitStatus(t, h, structs.AllocClientStatusFailed)
}

func TestDestroyStopsTasksAndForgetsButKeepsDir(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService, mockTask("web", "run_for=1h", "stdout=hello")))
	waitStatus(t, h, structs.AllocClientStatusRunning)
	if allocs, _ := h.db.Allocations(); len(allocs) != 1 {
		t.Fatalf("alloc not persisted: %v", allocs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.ar.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if h.driver.Tasks() != 0 {
		t.Error("task not destroyed in the driver")
	}
	if allocs, _ := h.db.Allocations(); len(allocs) != 0 {
		t.Errorf("alloc still in state: %v", allocs)
	}
	out, err := os.ReadFile(filepath.Join(h.dataDir, "alloc", "alloc-1", "alloc", "logs", "web.stdout.0"))
	if err != nil || string(out) != "hello" {
		t.Errorf("log = %q, %v", out, err)
	}
}

func TestClientStatus(t *testing.T) {
	ts := func(state string, failed bool) *structs.TaskState {
		return &structs.TaskState{State: state, Failed: failed}
	}
	cases := []struct {
		tasks map[string]*structs.TaskState
		want  string
	}{
		{map[string]*structs.TaskState{"a": ts("pending", false)}, structs.AllocClientStatusPending},
		{map[string]*structs.TaskState{"a": ts("running", false), "b": ts("pending", false)}, structs.AllocClientStatusRunning},
		{map[string]*structs.TaskState{"a": ts("running", false), "b": ts("dead", false)}, structs.AllocClientStatusRunning},
		{map[string]*structs.TaskState{"a": ts("running", false), "b": ts("dead", true)}, structs.AllocClientStatusFailed},
		{map[string]*structs.TaskState{"a": ts("dead", false), "b": ts("dead", false)}, structs.AllocClientStatusComplete},
		{map[string]*structs.TaskState{"a": ts("dead", false), "b": ts("dead", true)}, structs.AllocClientStatusFailed},
	}
	for i, c := range cases {
		if got, _ := ClientStatus(c.tasks); got != c.want {
			t.Errorf("case %d: %s, want %s", i, got, c.want)
		}
	}
}
