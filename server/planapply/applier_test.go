package planapply

import (
	"log/slog"
	"testing"
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// TestEvaluatePlanDropsNodesThatNoLongerFit plays two workers that planned
// the same host port on the same node from the same stale snapshot: the
// second plan's placement is dropped and the worker told to refresh.
func TestEvaluatePlanDropsNodesThatNoLongerFit(t *testing.T) {
	st, err := state.NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	job := statetest.Job("web")
	statetest.Seed(t, st, job, "n1", "n2")
	committed := statetest.Alloc("a1", job, 0, "n1", "e1")
	if err := st.UpsertAllocs(4, []*structs.Allocation{committed}); err != nil {
		t.Fatal(err)
	}
	snap, err := st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}

	clash := statetest.Alloc("a2", job, 1, "n1", "e2") // same host port 20000 on n1
	fine := statetest.Alloc("a3", job, 2, "n2", "e2")
	plan := &structs.Plan{EvalID: "e2", Job: job, NodeAllocation: map[string][]*structs.Allocation{
		"n1": {clash}, "n2": {fine},
	}}
	result, rejected, err := evaluatePlan(snap, plan)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := result.NodeAllocation["n1"]; ok || rejected["n1"] == "" {
		t.Fatalf("the clashing node was kept: %+v %v", result.NodeAllocation, rejected)
	}
	if len(result.NodeAllocation["n2"]) != 1 || result.RefreshIndex != 4 {
		t.Fatalf("result %+v", result)
	}

	// Once the plan also stops the committed alloc, the port is free again.
	plan.AppendStop(committed, "replaced")
	result, rejected, err = evaluatePlan(snap, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 0 || result.RefreshIndex != 0 || len(result.NodeAllocation["n1"]) != 1 {
		t.Fatalf("result %+v rejected %v", result, rejected)
	}
}

func TestAllocsFitNamesTheExhaustedDimension(t *testing.T) {
	node := statetest.Node("n1")
	node.NodeResources.Memory.MemoryMB = 100
	job := statetest.Job("web")
	a := statetest.Alloc("a", job, 0, "n1", "e")
	b := statetest.Alloc("b", job, 1, "n1", "e")
	b.AllocatedResources.Shared.Ports[0].Value = 20001
	ok, why := AllocsFit(node, []*structs.Allocation{a, b})
	if ok || why != "memory exhausted" {
		t.Fatalf("fit %v %q", ok, why)
	}
}

// A plan's placements share its job: the log entry carries the job once and
// no placement repeats it, the scheduler's allocations keep theirs, and the
// committed allocations all point to one stored job.
func TestApplyPlanSendsTheJobOnce(t *testing.T) {
	st, err := state.NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	job := statetest.Job("web")
	index := statetest.Seed(t, st, job, "n1")
	var sent *fsm.ApplyPlanResultsRequest
	apply := func(mt fsm.MessageType, req any) (uint64, error) {
		r, ok := req.(*fsm.ApplyPlanResultsRequest)
		if mt != fsm.ApplyPlanResults || !ok {
			t.Fatalf("unexpected apply %s %T", mt, req)
		}
		sent = r
		index++
		return index, st.UpsertPlanResults(index, r)
	}
	a := New(apply, func() *state.StateStore { return st }, slog.New(slog.DiscardHandler), func() time.Time { return time.Unix(1700000000, 0) })

	a1 := statetest.Alloc("a1", job, 0, "n1", "e1")
	a2 := statetest.Alloc("a2", job, 1, "n1", "e1")
	a2.AllocatedResources.Shared.Ports[0].Value = 20001
	a1.Job, a2.Job = job, job
	plan := &structs.Plan{EvalID: "e1", Job: job, NodeAllocation: map[string][]*structs.Allocation{"n1": {a1, a2}}}
	if _, err := a.applyPlan(plan); err != nil {
		t.Fatal(err)
	}
	if sent == nil || sent.Job != job || len(sent.AllocsUpdated) != 2 {
		t.Fatalf("sent %+v", sent)
	}
	for _, u := range sent.AllocsUpdated {
		if u.Job != nil {
			t.Fatalf("allocation %s carries the job in the entry", u.ID)
		}
	}
	if a1.Job != job || a2.Job != job {
		t.Fatal("the scheduler's allocations lost their job")
	}
	got, err := st.AllocsByNodeShared(nil, "n1")
	if err != nil || len(got) != 2 {
		t.Fatalf("stored %d allocations, %v", len(got), err)
	}
	if got[0].Job == nil || got[0].Job != got[1].Job || got[0].Job.ID != job.ID {
		t.Fatalf("stored jobs %p %p: want one shared copy of %s", got[0].Job, got[1].Job, job.ID)
	}
}
