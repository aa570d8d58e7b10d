package taskrunner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/structs"
)

// harness runs one task with the mock driver and a fake clock.
type harness struct {
	t      *testing.T
	clock  *clocktest.Fake
	driver *mock.Driver
	store  *memStore
	tr     *TaskRunner
	ctx    context.Context
	cancel context.CancelFunc
	ran    chan struct{}
}

func testAlloc(jobType string, policy *structs.RestartPolicy, config map[string]any) *structs.Allocation {
	task := &structs.Task{
		Name:        "app",
		Driver:      mock.Name,
		Config:      config,
		Resources:   &structs.Resources{CPU: 100, MemoryMB: 64},
		KillTimeout: 3 * time.Second,
	}
	job := &structs.Job{
		ID: "job", Name: "job", Namespace: "default", Region: "global", Type: jobType,
		TaskGroups: []*structs.TaskGroup{{Name: "group", Tasks: []*structs.Task{task}, RestartPolicy: policy}},
	}
	return &structs.Allocation{ID: "alloc-1", Namespace: "default", Name: "job.group[0]", JobID: "job", Job: job, TaskGroup: "group"}
}

func args(a ...string) map[string]any {
	list := make([]any, len(a))
	for i, s := range a {
		list[i] = s
	}
	return map[string]any{"args": list}
}

func newHarness(t *testing.T, alloc *structs.Allocation, d *mock.Driver, restore *driver.TaskHandle, state *structs.TaskState) *harness {
	t.Helper()
	dir := allocdir.New(t.TempDir(), alloc.ID)
	if err := dir.Build([]string{"app"}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: clocktest.NewFake(), driver: d, store: newMemStore(), ran: make(chan struct{})}
	var drv driver.Driver
	if d != nil {
		drv = d
	}
	h.tr = New(Config{
		Alloc:  alloc,
		Task:   alloc.Job.TaskGroups[0].Tasks[0],
		Node:   &structs.Node{ID: "node-1", Datacenter: "dc1"},
		HostIP: "127.0.0.1",
		Driver: drv,
		Dir:    dir,
		Handle: restore,
		State:  state,
		Store:  h.store,
		Clock:  h.clock,
	})
	h.ctx, h.cancel = context.WithCancel(context.Background())
	t.Cleanup(h.cancel)
	return h
}

func (h *harness) run() {
	go func() {
		defer close(h.ran)
		h.tr.Run(h.ctx)
	}()
}

// finish runs the task to its end, moving the fake clock past every
// restart delay.
func (h *harness) finish() *structs.TaskState {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-h.tr.Done():
			return h.tr.State()
		default:
		}
		if d, ok := h.clock.Next(); ok {
			h.clock.Advance(d)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("task did not finish; state %+v", h.tr.State())
		}
		time.Sleep(time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func eventTypes(s *structs.TaskState) []string {
	var out []string
	for _, e := range s.Events {
		out = append(out, e.Type)
	}
	return out
}

func lastEvent(s *structs.TaskState) *structs.TaskEvent { return s.Events[len(s.Events)-1] }

func TestBatchSuccessIsNotRestarted(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeBatch, nil, args("exit_code=0")), d, nil, nil)
	h.run()
	s := h.finish()
	if s.State != structs.TaskStateDead || s.Failed || s.Restarts != 0 {
		t.Fatalf("state = %+v", s)
	}
	want := []string{structs.TaskReceived, structs.TaskSetup, structs.TaskStarted, structs.TaskTerminated}
	if got := eventTypes(s); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if s.StartedAt.IsZero() || s.FinishedAt.IsZero() {
		t.Errorf("times not set: %+v", s)
	}
	if d.Tasks() != 0 {
		t.Errorf("exited task was not destroyed")
	}
	if h.store.handle() != nil {
		t.Errorf("handle of an exited task is still stored")
	}
}

func TestServiceExitIsRestartedUntilAttemptsRunOut(t *testing.T) {
	d := mock.New()
	policy := &structs.RestartPolicy{Attempts: 2, Interval: time.Hour, Delay: 15 * time.Second, Mode: structs.RestartModeFail}
	h := newHarness(t, testAlloc(structs.JobTypeService, policy, args("exit_code=0")), d, nil, nil)
	h.run()
	s := h.finish()
	if s.State != structs.TaskStateDead || !s.Failed || s.Restarts != 2 {
		t.Fatalf("state = %+v", s)
	}
	if n := len(d.Started()); n != 3 {
		t.Errorf("started %d times, want 3", n)
	}
	last := lastEvent(s)
	if last.Type != structs.TaskNotRestarting || !last.FailsTask ||
		last.RestartReason != `Exceeded allowed attempts 2 in interval 1h0m0s and mode is "fail"` {
		t.Errorf("last event = %+v", last)
	}
	for _, e := range s.Events {
		if e.Type == structs.TaskRestarting && (e.StartDelay != int64(15*time.Second) || e.DisplayMessage != "Task restarting in 15s") {
			t.Errorf("restarting event = %+v", e)
		}
	}
}

func TestFailingBatchTaskRestartsThenFails(t *testing.T) {
	d := mock.New()
	policy := &structs.RestartPolicy{Attempts: 3, Interval: 24 * time.Hour, Delay: 15 * time.Second, Mode: structs.RestartModeFail}
	h := newHarness(t, testAlloc(structs.JobTypeBatch, policy, args("exit_code=3", "oom=true")), d, nil, nil)
	start := h.clock.Now()
	h.run()
	s := h.finish()
	if !s.Failed || s.Restarts != 3 || len(d.Started()) != 4 {
		t.Fatalf("state = %+v, started %d", s, len(d.Started()))
	}
	if got := h.clock.Now().Sub(start); got != 45*time.Second {
		t.Errorf("restarts took %v of fake time, want 3 delays of 15s", got)
	}
	var term *structs.TaskEvent
	for _, e := range s.Events {
		if e.Type == structs.TaskTerminated {
			term = e
		}
	}
	if term == nil || term.ExitCode != 3 || term.Details["exit_code"] != "3" || term.Details["oom_killed"] != "true" {
		t.Errorf("terminated event = %+v", term)
	}
	if len(s.Events) > structs.MaxTaskEvents {
		t.Errorf("%d events kept, max %d", len(s.Events), structs.MaxTaskEvents)
	}
}

func TestStartErrorIsADriverFailure(t *testing.T) {
	d := mock.New()
	policy := &structs.RestartPolicy{Attempts: 1, Interval: time.Hour, Delay: time.Second, Mode: structs.RestartModeFail}
	h := newHarness(t, testAlloc(structs.JobTypeService, policy, args("start_error=no such image")), d, nil, nil)
	h.run()
	s := h.finish()
	if !s.Failed || s.Restarts != 1 || !s.StartedAt.IsZero() {
		t.Fatalf("state = %+v", s)
	}
	var failures int
	for _, e := range s.Events {
		if e.Type == structs.TaskDriverFailure {
			failures++
			if e.DriverError != "no such image" {
				t.Errorf("driver failure event = %+v", e)
			}
		}
	}
	if failures != 2 {
		t.Errorf("%d driver failures, want 2", failures)
	}
}

func TestBadConfigIsASetupFailure(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeService, nil, map[string]any{"args": "not-a-list"}), d, nil, nil)
	h.run()
	s := h.finish()
	if !s.Failed || lastEvent(s).Type != structs.TaskSetupFailure || len(d.Started()) != 0 {
		t.Fatalf("state = %+v", s)
	}
}

func TestMissingDriverFailsTheTask(t *testing.T) {
	h := newHarness(t, testAlloc(structs.JobTypeService, nil, nil), nil, nil, nil)
	h.run()
	s := h.finish()
	if !s.Failed || !strings.Contains(lastEvent(s).DisplayMessage, `driver "mock" is not available`) {
		t.Fatalf("state = %+v, last %+v", s, lastEvent(s))
	}
}

func TestKillStopsARunningTask(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeService, nil, args("run_for=1h")), d, nil, nil)
	h.run()
	waitFor(t, "task running", func() bool { return h.tr.State().State == structs.TaskStateRunning })
	if h.store.handle() == nil {
		t.Fatal("handle of a running task is not stored")
	}
	h.tr.Kill("alloc stopped")
	s := h.finish()
	if s.Failed || s.State != structs.TaskStateDead || s.Restarts != 0 {
		t.Fatalf("state = %+v", s)
	}
	types := eventTypes(s)
	if types[len(types)-2] != structs.TaskKilling || types[len(types)-1] != structs.TaskKilled {
		t.Fatalf("events = %v", types)
	}
	killing := s.Events[len(s.Events)-2]
	if killing.KillTimeout != 3*time.Second || killing.Details["kill_reason"] != "alloc stopped" {
		t.Errorf("killing event = %+v", killing)
	}
	if d.Running() != 0 || d.Tasks() != 0 {
		t.Errorf("task still known to the driver: running %d, tasks %d", d.Running(), d.Tasks())
	}
}

func TestKillDuringRestartDelay(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeService, nil, args("exit_code=1")), d, nil, nil)
	h.run()
	waitFor(t, "restart delay", func() bool { return h.clock.Timers() == 1 })
	h.tr.Kill("stop")
	select {
	case <-h.tr.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("kill did not end the restart delay")
	}
	s := h.tr.State()
	if s.Failed || lastEvent(s).Type != structs.TaskKilled || s.Restarts != 1 {
		t.Fatalf("state = %+v", s)
	}
}

func TestKillCutsStartShort(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeService, nil, args("start_delay=1h")), d, nil, nil)
	h.run()
	waitFor(t, "start in progress", func() bool { return d.Starting() == 1 })
	h.tr.Kill("stop")
	s := h.finish()
	if s.Failed || lastEvent(s).Type != structs.TaskKilled || len(d.Started()) != 0 {
		t.Fatalf("state = %+v, events %v", s, eventTypes(s))
	}
}

func TestKillBeforeRun(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeService, nil, args("run_for=1h")), d, nil, nil)
	h.tr.Kill("stop")
	h.run()
	s := h.finish()
	if s.State != structs.TaskStateDead || s.Failed || len(d.Started()) != 0 {
		t.Fatalf("state = %+v", s)
	}
}

func TestRecoverReattachesInsteadOfStarting(t *testing.T) {
	d := mock.New()
	alloc := testAlloc(structs.JobTypeService, nil, args("run_for=1h"))
	first := newHarness(t, alloc, d, nil, nil)
	first.run()
	waitFor(t, "task running", func() bool { return first.tr.State().State == structs.TaskStateRunning })
	// The client shuts down: the runner stops watching, the task runs on.
	first.cancel()
	<-first.ran
	if d.Running() != 1 {
		t.Fatalf("shutdown stopped the task")
	}

	second := newHarness(t, alloc, d, first.store.handle(), first.store.state())
	second.run()
	waitFor(t, "task running", func() bool { return second.tr.State().State == structs.TaskStateRunning })
	if n := len(d.Started()); n != 1 {
		t.Fatalf("task started %d times, want 1 (recovered)", n)
	}
	second.tr.Kill("stop")
	if s := second.finish(); s.Failed || lastEvent(s).Type != structs.TaskKilled {
		t.Fatalf("state = %+v", s)
	}
}

func TestRecoverFailureStartsAgain(t *testing.T) {
	d := mock.New()
	alloc := testAlloc(structs.JobTypeService, nil, args("run_for=1h"))
	stale := &driver.TaskHandle{Driver: mock.Name, ContainerID: "gone"}
	h := newHarness(t, alloc, d, stale, &structs.TaskState{State: structs.TaskStateRunning})
	h.run()
	waitFor(t, "task started again", func() bool { return len(d.Started()) == 1 })
	h.tr.Kill("stop")
	h.finish()
}

func TestDeadTaskIsNotRerunAfterRestart(t *testing.T) {
	d := mock.New()
	h := newHarness(t, testAlloc(structs.JobTypeBatch, nil, nil), d, nil, &structs.TaskState{State: structs.TaskStateDead})
	h.run()
	h.finish()
	if len(d.Started()) != 0 {
		t.Fatal("dead task started again")
	}
}

func TestTaskConfig(t *testing.T) {
	d := mock.New()
	alloc := testAlloc(structs.JobTypeService, nil, map[string]any{
		"image":      "redis:${NOMAD_META_tag}",
		"command":    "redis-server",
		"args":       []any{"run_for=1h", "stdout=${NOMAD_TASK_NAME}"},
		"entrypoint": []any{"/bin/sh", "-c"},
		"ports":      []any{"db"},
		"labels":     []any{map[string]any{"team": "${node.datacenter}"}},
	})
	task := alloc.Job.TaskGroups[0].Tasks[0]
	task.Meta = map[string]string{"tag": "7"}
	task.KillSignal = "SIGINT"
	alloc.AllocatedResources = &structs.AllocatedResources{Shared: structs.AllocatedSharedResources{
		Ports: []structs.AllocatedPortMapping{{Label: "db", Value: 25000, To: 6379}},
	}}
	h := newHarness(t, alloc, d, nil, nil)
	h.run()
	waitFor(t, "task started", func() bool { return len(d.Started()) == 1 })
	cfg := d.Started()[0]
	if cfg.Image != "redis:7" || cfg.Command != "redis-server" || cfg.Args[1] != "stdout=app" ||
		strings.Join(cfg.Entrypoint, " ") != "/bin/sh -c" || cfg.PortLabels[0] != "db" || cfg.Labels["team"] != "dc1" {
		t.Errorf("config = %+v", cfg)
	}
	if len(cfg.Ports) != 1 || cfg.Ports[0] != (driver.PortMapping{Label: "db", HostIP: "127.0.0.1", HostPort: 25000, ContainerPort: 6379}) {
		t.Errorf("ports = %+v", cfg.Ports)
	}
	if cfg.AllocID != "alloc-1" || cfg.JobID != "job" || cfg.GroupName != "group" || cfg.TaskName != "app" ||
		cfg.Namespace != "default" || cfg.CPUShares != 100 || cfg.MemoryMB != 64 || cfg.KillTimeout != 3*time.Second {
		t.Errorf("identity or resources = %+v", cfg)
	}
	if cfg.Env["NOMAD_PORT_db"] != "6379" || cfg.Env["DROVER_TASK_NAME"] != "app" {
		t.Errorf("env = %v", cfg.Env)
	}
	if !strings.HasSuffix(cfg.StdoutPath, "/alloc/logs/app.stdout.0") || !strings.HasSuffix(cfg.StderrPath, "/alloc/logs/app.stderr.0") {
		t.Errorf("log paths = %s, %s", cfg.StdoutPath, cfg.StderrPath)
	}
	h.tr.Kill("done")
	h.finish()
}

// memStore is an in-memory Store.
type memStore struct {
	mu sync.Mutex
	h  *driver.TaskHandle
	s  *structs.TaskState
}

func newMemStore() *memStore { return &memStore{} }

func (m *memStore) PutTaskHandle(_, _ string, h *driver.TaskHandle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.h = h
	return nil
}

func (m *memStore) PutTaskState(_, _ string, s *structs.TaskState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s = s.Copy()
	return nil
}

func (m *memStore) handle() *driver.TaskHandle {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.h
}

func (m *memStore) state() *structs.TaskState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s.Copy()
}
