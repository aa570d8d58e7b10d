package server

import (
	"context"
	"testing"

	"github.com/drover-project/drover/structs"
)

// A stopped job whose allocations ended is collected by a forced GC with
// its evaluations and allocations, and so is a node that is down with
// nothing on it; a running job and a live node are left alone.
func TestServerSystemGCCollectsFinishedWork(t *testing.T) {
	s, ep := oneNodeServer(t)
	ctx := context.Background()
	for _, id := range []string{"old", "live"} {
		if _, err := ep.JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob(id, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	// The fake client: runs what it should, ends what is stopped.
	report := func() {
		allocs, _, err := ep.NodeAllocations(ctx, "n1", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var updates []*structs.Allocation
		for _, a := range allocs {
			switch {
			case a.DesiredStatus == structs.AllocDesiredStatusRun && a.ClientStatus == structs.AllocClientStatusPending:
				updates = append(updates, &structs.Allocation{ID: a.ID, ClientStatus: structs.AllocClientStatusRunning})
			case a.DesiredStatus != structs.AllocDesiredStatusRun && !a.ClientTerminal():
				updates = append(updates, &structs.Allocation{ID: a.ID, ClientStatus: structs.AllocClientStatusComplete})
			}
		}
		if len(updates) > 0 {
			if err := ep.UpdateAllocations(ctx, updates); err != nil {
				t.Fatal(err)
			}
		}
	}
	allocsOf := func(job string) []*structs.AllocListStub {
		allocs, _, err := ep.JobAllocations(ctx, nil, job, true)
		if err != nil {
			t.Fatal(err)
		}
		return allocs
	}
	waitFor(t, "both jobs running", func() bool {
		report()
		a, b := allocsOf("old"), allocsOf("live")
		return len(a) == 1 && len(b) == 1 && a[0].ClientStatus == structs.AllocClientStatusRunning && b[0].ClientStatus == structs.AllocClientStatusRunning
	})
	if _, err := ep.JobDeregister(ctx, structs.DefaultNamespace, "old", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "old's allocation complete and its evaluations done", func() bool {
		report()
		a := allocsOf("old")
		if len(a) != 1 || a[0].ClientStatus != structs.AllocClientStatusComplete {
			return false
		}
		evals, _, err := ep.JobEvaluations(ctx, nil, "old")
		if err != nil {
			return false
		}
		for _, ev := range evals {
			if !ev.Terminal() {
				return false
			}
		}
		return true
	})
	if _, err := ep.RegisterNode(ctx, testNode("gone")); err != nil {
		t.Fatal(err)
	}
	if err := ep.MarkNodeDown("gone"); err != nil {
		t.Fatal(err)
	}
	if err := ep.SystemGC(ctx); err != nil {
		t.Fatal(err)
	}
	if job, _ := s.State().JobByID(nil, structs.DefaultNamespace, "old"); job != nil {
		t.Error("the stopped job was not collected")
	}
	if allocs, _ := s.State().AllocsByJob(nil, structs.DefaultNamespace, "old", true); len(allocs) != 0 {
		t.Errorf("%d allocations of the collected job left", len(allocs))
	}
	if job, _ := s.State().JobByID(nil, structs.DefaultNamespace, "live"); job == nil || len(allocsOf("live")) != 1 {
		t.Error("the running job was touched")
	}
	if n, _ := s.State().NodeByID(nil, "gone"); n != nil {
		t.Error("the down node was not collected")
	}
	if n, _ := s.State().NodeByID(nil, "n1"); n == nil {
		t.Error("the live node was collected")
	}
}
