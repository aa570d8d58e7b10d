package planapply

import (
	"testing"

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
	if err := st.UpsertNode(1, statetest.Node("n1")); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertNode(2, statetest.Node("n2")); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertJob(3, job); err != nil {
		t.Fatal(err)
	}
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
