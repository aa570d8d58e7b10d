package scheduler_test

import (
	"testing"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

func systemJob(id, typ string) *structs.Job {
	j := st.Job(id, 1)
	j.Type = typ
	j.TaskGroups[0].RestartPolicy = nil
	j.Canonicalize()
	return j
}

// perNode counts live allocations per node.
func perNode(h *st.Harness) map[string]int {
	out := map[string]int{}
	for _, a := range h.State.LiveAllocs() {
		out[a.NodeID]++
	}
	return out
}

func TestSystemOnEveryEligibleNode(t *testing.T) {
	nodes := []*structs.Node{
		st.Node("a"), st.Node("b"), withKernel("c", "windows"),
		nodeWith("down", func(n *structs.Node) { n.Status = structs.NodeStatusDown }),
		nodeWith("ineligible", func(n *structs.Node) { n.SchedulingEligibility = structs.NodeSchedulingIneligible }),
	}
	job := systemJob("sys", structs.JobTypeSystem)
	job.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "windows", Operand: "!="}}
	job.Canonicalize()
	h, job := setup(t, job, nodes...)
	eval := process(t, h, job)
	got := perNode(h)
	if len(got) != 2 || got["a"] != 1 || got["b"] != 1 {
		t.Fatalf("allocations per node = %v, want one on a and b", got)
	}
	for _, a := range h.State.LiveAllocs() {
		if a.Name != "sys.web[0]" {
			t.Errorf("name %q, want sys.web[0]", a.Name)
		}
	}
	if len(eval.FailedTGAllocs) != 0 || len(h.CreatedEvals()) != 0 {
		t.Errorf("failed %v, created %d evals; want none", eval.FailedTGAllocs, len(h.CreatedEvals()))
	}

	// Again: nothing changes.
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 2 {
		t.Fatalf("%d allocations after a second run, want 2", n)
	}

	// A node joins: the next evaluation places there too.
	h.State.UpsertNode(st.Node("d"))
	process(t, h, job)
	if got := perNode(h); len(got) != 3 || got["d"] != 1 {
		t.Errorf("after join: %v, want one on d too", got)
	}

	// A node goes down: its allocation is lost, nothing is placed elsewhere.
	down := st.Node("a")
	down.Status = structs.NodeStatusDown
	h.State.UpsertNode(down)
	process(t, h, job)
	if got := perNode(h); len(got) != 2 || got["a"] != 0 {
		t.Errorf("after a went down: %v", got)
	}
}

func TestSystemNodeTooSmallExplained(t *testing.T) {
	small := nodeWith("small", func(n *structs.Node) { n.NodeResources.Memory.MemoryMB = 100 })
	h, job := setup(t, systemJob("sys", structs.JobTypeSystem), st.Node("a"), small)
	eval := process(t, h, job)
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.DimensionExhausted["memory"] != 1 {
		t.Fatalf("failure metric = %+v, want memory exhausted on one node", m)
	}
	if eval.QueuedAllocations["web"] != 1 || len(h.CreatedEvals()) != 0 {
		t.Errorf("queued %v, %d created evals; want 1 queued and no blocked eval", eval.QueuedAllocations, len(h.CreatedEvals()))
	}
}

func TestSystemUpdateAndStop(t *testing.T) {
	h, job := setup(t, systemJob("sys", structs.JobTypeSystem), st.Node("a"), st.Node("b"))
	process(t, h, job)
	first := placement(h)

	// A destructive change replaces each allocation on its own node.
	changed := job.Copy()
	changed.TaskGroups[0].Tasks[0].Config = map[string]any{"image": "busybox:2"}
	changed = h.State.UpsertJob(changed)
	process(t, h, changed)
	live := h.State.LiveAllocs()
	if len(live) != 2 {
		t.Fatalf("%d live allocations, want 2", len(live))
	}
	for _, a := range live {
		if a.Job.TaskGroups[0].Tasks[0].Config["image"] != "busybox:2" || a.PreviousAllocation == "" {
			t.Errorf("allocation %s not replaced: %+v", a.ID, a)
		}
	}
	if len(first) != 1 { // both named sys.web[0]
		t.Fatalf("placement = %v", first)
	}

	stopped := changed.Copy()
	stopped.Stop = true
	stopped = h.State.UpsertJob(stopped)
	process(t, h, stopped)
	if n := len(h.State.LiveAllocs()); n != 0 {
		t.Errorf("%d live allocations after stop, want 0", n)
	}
}

func TestSystemFailedReplacedOnSameNode(t *testing.T) {
	h, job := setup(t, systemJob("sys", structs.JobTypeSystem), st.Node("a"))
	a := st.Alloc(job, 0, st.Node("a"))
	a.ClientStatus = structs.AllocClientStatusFailed
	h.State.UpsertAllocs(a)
	process(t, h, job)
	live := h.State.LiveAllocs()
	if len(live) != 1 || live[0].NodeID != "a" || live[0].PreviousAllocation != a.ID {
		t.Fatalf("live = %+v, want a replacement of %s on a", live, a.ID)
	}
}

func TestSysBatchRunsOncePerVersion(t *testing.T) {
	h, job := setup(t, systemJob("once", structs.JobTypeSysBatch), st.Node("a"))
	a := st.Alloc(job, 0, st.Node("a"))
	a.ClientStatus = structs.AllocClientStatusComplete
	h.State.UpsertAllocs(a)
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 0 {
		t.Fatalf("%d live allocations, want the finished work left alone", n)
	}
	// A new node gets its run.
	h.State.UpsertNode(st.Node("b"))
	process(t, h, job)
	if got := perNode(h); len(got) != 1 || got["b"] != 1 {
		t.Errorf("after b joined: %v, want one on b", got)
	}
}

// TestInPlaceUpdate: a change that does not reach the tasks (here the
// count and the restart policy) updates the running allocations' job
// without replacing them, once.
func TestInPlaceUpdate(t *testing.T) {
	h, job := setup(t, st.Job("web", 2), st.Node("a"), st.Node("b"))
	process(t, h, job)
	before := map[string]bool{}
	for _, a := range h.State.LiveAllocs() {
		before[a.ID] = true
	}
	changed := job.Copy()
	changed.TaskGroups[0].Count = 3
	changed.TaskGroups[0].RestartPolicy.Attempts = 9
	changed = h.State.UpsertJob(changed)
	process(t, h, changed)
	live := h.State.LiveAllocs()
	if len(live) != 3 {
		t.Fatalf("%d live allocations, want 3", len(live))
	}
	kept := 0
	for _, a := range live {
		if before[a.ID] {
			kept++
		}
		if a.Job.TaskGroups[0].RestartPolicy.Attempts != 9 {
			t.Errorf("allocation %s still runs the old job", a.Name)
		}
	}
	if kept != 2 {
		t.Errorf("%d of the 2 allocations kept, want both", kept)
	}
	plans := len(h.Plans())
	process(t, h, changed)
	if len(h.Plans()) != plans {
		t.Error("a second run submitted a plan")
	}
}
