package nodes

import (
	"fmt"
	"testing"
	"time"

	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// drainHarness is a state store, a drainer over it with a fake clock, and
// a stand-in for the scheduler and the clients: the test moves time and
// says when replacements are placed, start and when old allocations end.
type drainHarness struct {
	t       *testing.T
	store   *state.StateStore
	index   uint64
	drainer *Drainer
	now     time.Time
	seq     int
	marked  [][]string // each MigrateAllocs call's allocation IDs
}

func newDrainHarness(t *testing.T) *drainHarness {
	t.Helper()
	store, err := state.NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	h := &drainHarness{t: t, store: store, now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	h.drainer = NewDrainer(DrainerConfig{State: func() *state.StateStore { return store }, Writer: h})
	return h
}

func (h *drainHarness) next() uint64 { h.index++; return h.index }

func (h *drainHarness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// MigrateAllocs is the DrainWriter: it records and applies the marks.
func (h *drainHarness) MigrateAllocs(allocs []*structs.Allocation) error {
	yes := true
	tr := map[string]*structs.DesiredTransition{}
	var ids []string
	for _, a := range allocs {
		tr[a.ID] = &structs.DesiredTransition{Migrate: &yes}
		ids = append(ids, a.ID)
	}
	h.marked = append(h.marked, ids)
	return h.store.UpdateAllocsDesiredTransitions(h.next(), tr)
}

// CompleteDrain is the DrainWriter's end of a drain.
func (h *drainHarness) CompleteDrain(nodeID string) error {
	return h.store.UpdateNodeDrain(h.next(), nodeID, nil, false, structs.DrainStatusComplete, h.now, nil)
}

func (h *drainHarness) addNode(id string) {
	h.must(h.store.UpsertNode(h.next(), statetest.Node(id)))
}

func (h *drainHarness) drain(nodeID string, spec structs.DrainSpec) {
	d := &structs.DrainStrategy{DrainSpec: spec, StartedAt: h.now}
	if spec.Deadline > 0 {
		d.ForceDeadline = h.now.Add(spec.Deadline)
	}
	h.must(h.store.UpdateNodeDrain(h.next(), nodeID, d, false, structs.DrainStatusDraining, h.now, nil))
}

// addJob registers a job of the type with one group of count and migrate.
func (h *drainHarness) addJob(id, jobType string, count int, migrate *structs.MigrateStrategy) *structs.Job {
	job := statetest.Job(id)
	job.Type = jobType
	job.TaskGroups[0].Count = count
	job.Canonicalize()
	job.TaskGroups[0].Migrate = migrate
	h.must(h.store.UpsertJob(h.next(), job))
	stored, err := h.store.JobByID(nil, job.Namespace, id)
	h.must(err)
	return stored
}

// run places an allocation of job's instance index on node, running since
// the given time.
func (h *drainHarness) run(job *structs.Job, index int, nodeID string, since time.Time) string {
	h.seq++
	id := fmt.Sprintf("a%02d", h.seq)
	a := statetest.Alloc(id, job, index, nodeID, "e1")
	h.must(h.store.UpsertAllocs(h.next(), []*structs.Allocation{a}))
	h.must(h.store.UpdateAllocsFromClient(h.next(), []*structs.Allocation{{
		ID: id, ClientStatus: structs.AllocClientStatusRunning, TaskStates: statetest.TaskStates(structs.TaskStateRunning, since),
	}}))
	return id
}

// replaceMarked does what the scheduler and the clients do with marked
// allocations: each is stopped and ends, and a replacement starts on
// target now. It returns the replacements' IDs.
func (h *drainHarness) replaceMarked(target string) []string {
	allocs, err := h.store.Allocs(nil)
	h.must(err)
	var out []string
	for _, a := range allocs {
		if !a.DesiredTransition.ShouldMigrate() || a.Terminal() {
			continue
		}
		stopped := a.Copy()
		stopped.DesiredStatus = structs.AllocDesiredStatusStop
		h.must(h.store.UpsertAllocs(h.next(), []*structs.Allocation{stopped}))
		h.must(h.store.UpdateAllocsFromClient(h.next(), []*structs.Allocation{{ID: a.ID, ClientStatus: structs.AllocClientStatusComplete}}))
		if a.Job.Type == structs.JobTypeService {
			out = append(out, h.run(a.Job, a.Index(), target, h.now))
		}
	}
	return out
}

func (h *drainHarness) step() {
	h.t.Helper()
	h.must(h.drainer.Step(h.now))
}

// lastMarks is the number of allocations the last step marked, or 0.
func (h *drainHarness) marks() int {
	n := 0
	for _, m := range h.marked {
		n += len(m)
	}
	return n
}

// healthyOf counts the job's allocations running and not marked.
func (h *drainHarness) healthyOf(jobID string) int {
	allocs, err := h.store.AllocsByJob(nil, structs.DefaultNamespace, jobID, true)
	h.must(err)
	n := 0
	for _, a := range allocs {
		if !a.Terminal() && !a.DesiredTransition.ShouldMigrate() && a.ClientStatus == structs.AllocClientStatusRunning {
			n++
		}
	}
	return n
}

func (h *drainHarness) node(id string) *structs.Node {
	n, err := h.store.NodeByID(nil, id)
	h.must(err)
	return n
}

// Service allocations move in batches of max_parallel; the next batch
// waits until the replacements have run for min_healthy_time, so never
// fewer than count − max_parallel are healthy; then the drain completes
// and the node stays ineligible.
func TestDrainerMovesServiceAllocationsInBatches(t *testing.T) {
	h := newDrainHarness(t)
	h.addNode("n1")
	h.addNode("n2")
	job := h.addJob("web", structs.JobTypeService, 4, &structs.MigrateStrategy{MaxParallel: 2, HealthCheck: "task_states", MinHealthyTime: 10 * time.Second, HealthyDeadline: time.Minute})
	for i := range 4 {
		h.run(job, i, "n1", h.now.Add(-time.Hour))
	}
	h.drain("n1", structs.DrainSpec{Deadline: time.Hour})

	h.step()
	if h.marks() != 2 {
		t.Fatalf("first batch marked %d, want 2", h.marks())
	}
	h.step() // nothing changed: the batch is still moving
	if h.marks() != 2 {
		t.Fatalf("a second pass marked more: %d", h.marks())
	}
	if got := h.healthyOf("web"); got < 2 {
		t.Fatalf("healthy = %d, below count - max_parallel", got)
	}

	h.replaceMarked("n2")
	h.now = h.now.Add(5 * time.Second)
	h.step()
	if h.marks() != 2 {
		t.Fatalf("marked %d before the replacements were healthy", h.marks())
	}
	h.now = h.now.Add(5 * time.Second) // replacements healthy for 10s now
	h.step()
	if h.marks() != 4 {
		t.Fatalf("second batch: marked %d in all, want 4", h.marks())
	}
	if got := h.healthyOf("web"); got < 2 {
		t.Fatalf("healthy = %d, below count - max_parallel", got)
	}

	h.replaceMarked("n2")
	h.step()
	n := h.node("n1")
	if n.DrainStrategy != nil || n.Drain {
		t.Fatalf("drain not complete: %+v", n.DrainStrategy)
	}
	if n.SchedulingEligibility != structs.NodeSchedulingIneligible {
		t.Errorf("eligibility = %q, want ineligible after a drain", n.SchedulingEligibility)
	}
	if n.LastDrain == nil || n.LastDrain.Status != structs.DrainStatusComplete {
		t.Errorf("LastDrain = %+v, want complete", n.LastDrain)
	}
}

// At the deadline everything left is marked at once, healthy or not.
func TestDrainerDeadlineForcesTheRest(t *testing.T) {
	h := newDrainHarness(t)
	h.addNode("n1")
	h.addNode("n2")
	job := h.addJob("web", structs.JobTypeService, 3, structs.DefaultMigrateStrategy())
	for i := range 3 {
		h.run(job, i, "n1", h.now.Add(-time.Hour))
	}
	h.drain("n1", structs.DrainSpec{Deadline: time.Minute})
	h.step()
	if h.marks() != 1 {
		t.Fatalf("marked %d, want max_parallel = 1", h.marks())
	}
	h.now = h.now.Add(59 * time.Second)
	h.step()
	if h.marks() != 1 {
		t.Fatalf("marked %d before the deadline, want 1", h.marks())
	}
	h.now = h.now.Add(time.Second)
	h.step()
	if h.marks() != 3 {
		t.Fatalf("marked %d at the deadline, want all 3", h.marks())
	}
}

// A forced drain (negative deadline) marks everything at once.
func TestDrainerForceMarksEverything(t *testing.T) {
	h := newDrainHarness(t)
	h.addNode("n1")
	job := h.addJob("web", structs.JobTypeService, 2, structs.DefaultMigrateStrategy())
	h.run(job, 0, "n1", h.now.Add(-time.Hour))
	h.run(job, 1, "n1", h.now.Add(-time.Hour))
	h.drain("n1", structs.DrainSpec{Deadline: -1})
	h.step()
	if h.marks() != 2 {
		t.Fatalf("marked %d, want 2", h.marks())
	}
}

// System allocations move only once nothing else is left on the node;
// batch allocations are left to finish until the deadline.
func TestDrainerSystemJobsLastBatchAtDeadline(t *testing.T) {
	h := newDrainHarness(t)
	h.addNode("n1")
	h.addNode("n2")
	web := h.addJob("web", structs.JobTypeService, 1, structs.DefaultMigrateStrategy())
	sys := h.addJob("agent", structs.JobTypeSystem, 1, nil)
	batch := h.addJob("report", structs.JobTypeBatch, 1, nil)
	webID := h.run(web, 0, "n1", h.now.Add(-time.Hour))
	sysID := h.run(sys, 0, "n1", h.now.Add(-time.Hour))
	batchID := h.run(batch, 0, "n1", h.now.Add(-time.Hour))
	h.drain("n1", structs.DrainSpec{Deadline: time.Hour})

	h.step()
	if len(h.marked) != 1 || len(h.marked[0]) != 1 || h.marked[0][0] != webID {
		t.Fatalf("first marks = %v, want only the service allocation %s", h.marked, webID)
	}
	h.replaceMarked("n2")
	h.step()
	if h.marks() != 1 {
		t.Fatalf("marked %v while the batch allocation %s runs", h.marked, batchID)
	}
	h.now = h.now.Add(time.Hour) // the deadline: the batch allocation goes, with the system one
	h.step()
	if h.marks() != 3 {
		t.Fatalf("marks at the deadline = %v", h.marked)
	}
	_ = sysID
}

// With nothing but system allocations left, those go last.
func TestDrainerSystemAfterServices(t *testing.T) {
	h := newDrainHarness(t)
	h.addNode("n1")
	h.addNode("n2")
	web := h.addJob("web", structs.JobTypeService, 1, structs.DefaultMigrateStrategy())
	sys := h.addJob("agent", structs.JobTypeSystem, 1, nil)
	h.run(web, 0, "n1", h.now.Add(-time.Hour))
	sysID := h.run(sys, 0, "n1", h.now.Add(-time.Hour))
	h.drain("n1", structs.DrainSpec{Deadline: time.Hour})
	h.step()
	h.replaceMarked("n2")
	h.step()
	if len(h.marked) != 2 || h.marked[1][0] != sysID {
		t.Fatalf("marks = %v, want the system allocation %s second", h.marked, sysID)
	}
	h.replaceMarked("n2")
	h.step()
	if n := h.node("n1"); n.DrainStrategy != nil {
		t.Fatal("drain not complete")
	}
}

// -ignore-system leaves system allocations running, and the drain
// completes around them.
func TestDrainerIgnoreSystemJobs(t *testing.T) {
	h := newDrainHarness(t)
	h.addNode("n1")
	sys := h.addJob("agent", structs.JobTypeSystem, 1, nil)
	h.run(sys, 0, "n1", h.now.Add(-time.Hour))
	h.drain("n1", structs.DrainSpec{Deadline: -1, IgnoreSystemJobs: true})
	h.step()
	if h.marks() != 0 {
		t.Fatalf("marked %v with -ignore-system", h.marked)
	}
	if n := h.node("n1"); n.DrainStrategy != nil {
		t.Fatal("drain not complete")
	}
}

// The default health follows the client's deployment health when it
// reports one, and task states otherwise.
func TestRunningForHealth(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	m := structs.DefaultMigrateStrategy()
	a := &structs.Allocation{ClientStatus: structs.AllocClientStatusRunning, TaskStates: statetest.TaskStates(structs.TaskStateRunning, now.Add(-5*time.Second))}
	if RunningFor(a, m, now) {
		t.Error("healthy after 5s with min_healthy_time 10s")
	}
	if !RunningFor(a, m, now.Add(5*time.Second)) {
		t.Error("not healthy after 10s")
	}
	// A finished prestart task does not hold health back.
	job := statetest.Job("web")
	job.TaskGroups[0].Tasks = append(job.TaskGroups[0].Tasks, &structs.Task{Name: "init", Lifecycle: &structs.TaskLifecycleConfig{Hook: "prestart"}})
	a.Job, a.TaskGroup = job, "web"
	a.TaskStates["init"] = &structs.TaskState{State: structs.TaskStateDead}
	if !RunningFor(a, m, now.Add(5*time.Second)) {
		t.Error("a finished prestart task makes the allocation unhealthy")
	}
	no := false
	a.DeploymentStatus = &structs.AllocDeploymentStatus{Healthy: &no}
	if RunningFor(a, m, now.Add(time.Hour)) {
		t.Error("healthy although the deployment health says not")
	}
}
