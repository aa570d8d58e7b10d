package client

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/internal/version"
	"github.com/drover-project/drover/structs"
)

// fakeServers is an in-memory control plane.
type fakeServers struct {
	mu            sync.Mutex
	ttl           time.Duration
	registrations []*structs.Node
	heartbeats    int
	failRegister  int  // fail this many registrations first
	forgetNode    bool // answer the next heartbeat with not found
	allocs        map[string]*structs.Allocation
	index         uint64
	changed       chan struct{}
	reported      map[string]*structs.Allocation

	// lastStatus is the status of the last heartbeat.
	lastStatus string
}

func newFakeServers() *fakeServers {
	return &fakeServers{
		ttl:      10 * time.Second,
		allocs:   map[string]*structs.Allocation{},
		index:    1,
		changed:  make(chan struct{}),
		reported: map[string]*structs.Allocation{},
	}
}

func (s *fakeServers) RegisterNode(ctx context.Context, node *structs.Node) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRegister > 0 {
		s.failRegister--
		return 0, errors.New("no leader")
	}
	s.registrations = append(s.registrations, node.Copy())
	return s.ttl, nil
}

func (s *fakeServers) Heartbeat(ctx context.Context, nodeID, status string) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forgetNode {
		s.forgetNode = false
		return 0, structs.NotFound(errors.New("node not found"))
	}
	s.heartbeats++
	s.lastStatus = status
	return s.ttl, nil
}

func (s *fakeServers) NodeAllocations(ctx context.Context, nodeID string, minIndex uint64, wait time.Duration) ([]*structs.Allocation, uint64, error) {
	for {
		s.mu.Lock()
		if s.index > minIndex {
			var out []*structs.Allocation
			for _, a := range s.allocs {
				out = append(out, a.Copy())
			}
			index := s.index
			s.mu.Unlock()
			return out, index, nil
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

func (s *fakeServers) UpdateAllocations(ctx context.Context, allocs []*structs.Allocation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range allocs {
		s.reported[a.ID] = a
	}
	return nil
}

// setAlloc places, changes (bumping AllocModifyIndex) or, with nil fn,
// removes an allocation.
func (s *fakeServers) setAlloc(a *structs.Allocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	a.AllocModifyIndex = s.index
	s.allocs[a.ID] = a
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeServers) removeAlloc(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	delete(s.allocs, id)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *fakeServers) status(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.reported[id]; a != nil {
		return a.ClientStatus
	}
	return ""
}

func (s *fakeServers) counts() (registrations, heartbeats int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.registrations), s.heartbeats
}

func (s *fakeServers) lastRegistration() *structs.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registrations[len(s.registrations)-1]
}

type harness struct {
	t       *testing.T
	client  *Client
	servers *fakeServers
	driver  *mock.Driver
	clock   *clocktest.Fake
	dataDir string
	done    chan error
}

func startClient(t *testing.T, dataDir string, servers *fakeServers, d *mock.Driver) *harness {
	t.Helper()
	h := &harness{t: t, servers: servers, driver: d, clock: clocktest.NewFake(), dataDir: dataDir, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := New(&Config{
		DataDir: dataDir, NodeName: "worker-1", NodeClass: "test", Meta: map[string]string{"rack": "r1"},
		ReservedCPU: 200, ReservedMemoryMB: 256, Clock: h.clock,
	}, servers, map[string]driver.Driver{mock.Name: d}, logger)
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	go func() { h.done <- c.Run(context.Background()) }()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.client == nil {
		return
	}
	if err := h.client.Shutdown(); err != nil {
		h.t.Error(err)
	}
	if err := <-h.done; err != nil {
		h.t.Error(err)
	}
	h.client = nil
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

func waitStatus(t *testing.T, s *fakeServers, allocID, status string) {
	t.Helper()
	waitFor(t, "alloc "+allocID+" "+status, func() bool { return s.status(allocID) == status })
}

func testAlloc(id, jobType string, args ...string) *structs.Allocation {
	list := make([]any, len(args))
	for i, a := range args {
		list[i] = a
	}
	task := &structs.Task{Name: "app", Driver: mock.Name, Config: map[string]any{"args": list},
		Resources: &structs.Resources{CPU: 100, MemoryMB: 64}}
	job := &structs.Job{ID: "job-" + id, Name: "job-" + id, Namespace: "default", Type: jobType,
		TaskGroups: []*structs.TaskGroup{{Name: "g", Tasks: []*structs.Task{task},
			RestartPolicy: &structs.RestartPolicy{Attempts: 0, Interval: time.Hour, Delay: time.Second, Mode: structs.RestartModeFail}}}}
	return &structs.Allocation{ID: id, Namespace: "default", Name: job.ID + ".g[0]", JobID: job.ID, Job: job, TaskGroup: "g",
		DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending}
}

func TestRegistersAndHeartbeats(t *testing.T) {
	s := newFakeServers()
	h := startClient(t, t.TempDir(), s, mock.New())
	waitFor(t, "registration", func() bool { r, _ := s.counts(); return r == 1 })

	node := s.lastRegistration()
	if node.ID != h.client.NodeID() || node.Status != structs.NodeStatusInit || node.Datacenter != "dc1" ||
		node.Name != "worker-1" || node.NodeClass != "test" || node.NodePool != "default" || node.Meta["rack"] != "r1" {
		t.Errorf("node = %+v", node)
	}
	if node.Attributes["driver.mock"] != "1" || !node.DriverHealthy(mock.Name) || node.Attributes["kernel.name"] != "linux" ||
		node.Attributes["unique.network.ip-address"] != "127.0.0.1" || node.Attributes["nomad.version"] != version.Version {
		t.Errorf("attributes = %v, drivers = %v", node.Attributes, node.Drivers)
	}
	if r := node.NodeResources; r.Cpu.CpuShares <= 0 || r.Memory.MemoryMB <= 0 || r.MinDynamicPort != 20000 ||
		r.MaxDynamicPort != 32000 || node.HostIP() != "127.0.0.1" {
		t.Errorf("resources = %+v", r)
	}
	if node.ReservedResources.Cpu.CpuShares != 200 || node.ReservedResources.Memory.MemoryMB != 256 {
		t.Errorf("reserved = %+v", node.ReservedResources)
	}

	// Once its allocations are in hand, the node beats "ready" at once.
	waitFor(t, "the ready heartbeat", func() bool {
		_, hb := s.counts()
		s.mu.Lock()
		defer s.mu.Unlock()
		return hb == 1 && s.lastStatus == structs.NodeStatusReady
	})
	// Then heartbeats come every TTL/2 of (fake) time. Two timers wait
	// between them: the heartbeat's and the driver fingerprint's.
	for want := 2; want <= 5; want++ {
		waitFor(t, "heartbeat timer", func() bool { return h.clock.Timers() == 2 })
		h.clock.Advance(5 * time.Second)
		waitFor(t, "heartbeat", func() bool { _, hb := s.counts(); return hb == want })
	}
}

func TestRegistrationRetriesAndReregistersWhenForgotten(t *testing.T) {
	s := newFakeServers()
	s.failRegister = 2
	h := startClient(t, t.TempDir(), s, mock.New())
	advanceUntil(t, h.clock, func() bool { r, _ := s.counts(); return r == 1 })

	s.mu.Lock()
	s.forgetNode = true
	s.mu.Unlock()
	advanceUntil(t, h.clock, func() bool { r, _ := s.counts(); return r == 2 })
}

// advanceUntil moves the fake clock to each next timer until cond holds.
func advanceUntil(t *testing.T, clock *clocktest.Fake, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		if d, ok := clock.Next(); ok && d <= driverFingerprintPeriod {
			clock.Advance(d)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDriverHealthChangeReregisters(t *testing.T) {
	s := newFakeServers()
	d := mock.New()
	h := startClient(t, t.TempDir(), s, d)
	waitFor(t, "registration", func() bool { r, _ := s.counts(); return r == 1 })
	d.SetHealthy(false)
	waitFor(t, "fingerprint timer", func() bool { return h.clock.Timers() == 2 })
	h.clock.Advance(driverFingerprintPeriod)
	waitFor(t, "re-registration", func() bool { r, _ := s.counts(); return r == 2 })
	node := s.lastRegistration()
	if node.DriverHealthy(mock.Name) || node.Attributes["driver.mock"] != "" {
		t.Errorf("node still shows a healthy mock driver: %v", node.Drivers[mock.Name])
	}
	if h.client.Node().DriverHealthy(mock.Name) {
		t.Error("Node() still shows a healthy mock driver")
	}
}

func TestNodeIDIsKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	first := startClient(t, dir, newFakeServers(), mock.New())
	id := first.client.NodeID()
	first.stop()
	raw, err := os.ReadFile(filepath.Join(dir, "client", "node-id"))
	if err != nil || string(raw) != id+"\n" {
		t.Fatalf("node-id file = %q, %v", raw, err)
	}
	second := startClient(t, dir, newFakeServers(), mock.New())
	if second.client.NodeID() != id {
		t.Errorf("node ID changed: %s → %s", id, second.client.NodeID())
	}
}

func TestAllocLifecycle(t *testing.T) {
	s := newFakeServers()
	d := mock.New()
	startClient(t, t.TempDir(), s, d)

	s.setAlloc(testAlloc("batch", structs.JobTypeBatch, "run_for=10ms"))
	waitStatus(t, s, "batch", structs.AllocClientStatusComplete)

	s.setAlloc(testAlloc("broken", structs.JobTypeBatch, "exit_code=1"))
	waitStatus(t, s, "broken", structs.AllocClientStatusFailed)

	web := testAlloc("web", structs.JobTypeService, "run_for=1h")
	s.setAlloc(web)
	waitStatus(t, s, "web", structs.AllocClientStatusRunning)

	stopped := web.Copy()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	s.setAlloc(stopped)
	waitStatus(t, s, "web", structs.AllocClientStatusComplete)
	if d.Running() != 0 {
		t.Error("stopped alloc still runs")
	}

	// An alloc the servers forget is destroyed.
	api := testAlloc("api", structs.JobTypeService, "run_for=1h")
	s.setAlloc(api)
	waitStatus(t, s, "api", structs.AllocClientStatusRunning)
	s.removeAlloc("api")
	waitFor(t, "api destroyed", func() bool { return d.Running() == 0 && d.Tasks() == 0 })

	// An alloc stopped before it ever ran here is not started.
	late := testAlloc("late", structs.JobTypeService, "run_for=1h")
	late.DesiredStatus = structs.AllocDesiredStatusStop
	s.setAlloc(late)
	s.setAlloc(testAlloc("marker", structs.JobTypeBatch))
	waitStatus(t, s, "marker", structs.AllocClientStatusComplete)
	if s.status("late") != "" {
		t.Errorf("stopped alloc was run: %s", s.status("late"))
	}
}

func TestLogReader(t *testing.T) {
	s := newFakeServers()
	h := startClient(t, t.TempDir(), s, mock.New())
	web := testAlloc("web", structs.JobTypeService, "run_for=1h", "stdout=hello", "stderr=oops")
	s.setAlloc(web)
	waitStatus(t, s, "web", structs.AllocClientStatusRunning)

	r, err := h.client.LogReader("web", "app", "stdout")
	if err != nil {
		t.Fatal(err)
	}
	r.PollInterval = time.Millisecond
	buf := make([]byte, 5)
	if n, err := r.ReadAt(buf, 0); n != 5 || err != nil || string(buf) != "hello" {
		t.Fatalf("ReadAt = %d %v %q", n, err, buf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- r.Wait(ctx, 5) }()

	stopped := web.Copy()
	stopped.DesiredStatus = structs.AllocDesiredStatusStop
	s.setAlloc(stopped)
	if err := <-waited; !errors.Is(err, io.EOF) {
		t.Fatalf("Wait after stop = %v, want EOF", err)
	}

	// Logs stay readable after the servers forget the alloc.
	s.removeAlloc("web")
	waitFor(t, "runner removed", func() bool {
		h.client.mu.Lock()
		defer h.client.mu.Unlock()
		return h.client.runners["web"] == nil
	})
	r, err = h.client.LogReader("web", "app", "stderr")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Size(); n != 4 {
		t.Errorf("stderr size = %d", n)
	}
	if err := r.Wait(ctx, 4); !errors.Is(err, io.EOF) {
		t.Errorf("Wait on a removed alloc = %v", err)
	}

	if _, err := h.client.LogReader("web", "app", "stdin"); !errors.Is(err, structs.ErrBadRequest) {
		t.Errorf("bad log type: %v", err)
	}
	if _, err := h.client.LogReader("nope", "app", "stdout"); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("unknown alloc: %v", err)
	}
	if _, err := h.client.LogReader("web", "nope", "stdout"); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("unknown task: %v", err)
	}
	if _, err := h.client.LogReader("..", "app", "stdout"); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("path escape: %v", err)
	}
}

func TestRestartedClientRecoversTasks(t *testing.T) {
	s := newFakeServers()
	d := mock.New() // the same "engine" across both client processes
	dir := t.TempDir()
	first := startClient(t, dir, s, d)
	s.setAlloc(testAlloc("keep", structs.JobTypeService, "run_for=1h"))
	s.setAlloc(testAlloc("drop", structs.JobTypeService, "run_for=1h"))
	waitStatus(t, s, "keep", structs.AllocClientStatusRunning)
	waitStatus(t, s, "drop", structs.AllocClientStatusRunning)
	first.stop()
	if d.Running() != 2 {
		t.Fatalf("shutdown stopped tasks: %d running", d.Running())
	}

	// While the client is away, the servers drop one allocation.
	s.removeAlloc("drop")
	second := startClient(t, dir, s, d)
	waitFor(t, "orphan destroyed", func() bool { return d.Tasks() == 1 })
	if n := len(d.Started()); n != 2 {
		t.Fatalf("%d starts, want 2: the kept task must be recovered, not restarted", n)
	}
	second.client.mu.Lock()
	r := second.client.runners["keep"]
	second.client.mu.Unlock()
	if r == nil || r.Alloc().ClientStatus != structs.AllocClientStatusRunning {
		t.Fatalf("kept alloc not running after restart")
	}
	waitFor(t, "orphan forgotten", func() bool {
		allocs, err := second.client.db.Allocations()
		return err == nil && len(allocs) == 1 && allocs[0].ID == "keep"
	})
}
