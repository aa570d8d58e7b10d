package server

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// TestServerDrainKeepsCountMinusMaxParallelRunning drains a node that runs
// all three allocations of a service with migrate.max_parallel = 1, while
// fake clients report their allocations: the allocations move to the
// other nodes one at a time, never fewer than count − max_parallel = 2
// run, and the drained node ends ineligible with no drain strategy.
func TestServerDrainKeepsCountMinusMaxParallelRunning(t *testing.T) {
	_, ep := oneNodeServer(t)
	ctx := context.Background()
	job := testJob("web", 3)
	job.TaskGroups[0].Migrate = &structs.MigrateStrategy{MaxParallel: 1, HealthCheck: structs.MigrateHealthTaskStates,
		MinHealthyTime: 500 * time.Millisecond, HealthyDeadline: time.Minute}
	if _, err := ep.JobRegister(ctx, &structs.JobRegisterRequest{Job: job}); err != nil {
		t.Fatal(err)
	}

	// The fake clients: pending allocations start, stopped ones end. The
	// fewest running allocations seen is recorded.
	var mu sync.Mutex
	fewest, onN1 := 3, 3
	report := func() (running int) {
		allocs, _, err := ep.JobAllocations(ctx, nil, "web", true)
		if err != nil {
			t.Error(err)
			return 0
		}
		var updates []*structs.Allocation
		n1 := 0
		for _, a := range allocs {
			switch {
			case a.DesiredStatus == structs.AllocDesiredStatusRun && a.ClientStatus == structs.AllocClientStatusPending:
				updates = append(updates, &structs.Allocation{ID: a.ID, ClientStatus: structs.AllocClientStatusRunning,
					TaskStates: map[string]*structs.TaskState{"app": {State: structs.TaskStateRunning, StartedAt: time.Now()}}})
			case a.DesiredStatus != structs.AllocDesiredStatusRun && a.ClientStatus != structs.AllocClientStatusComplete:
				updates = append(updates, &structs.Allocation{ID: a.ID, ClientStatus: structs.AllocClientStatusComplete,
					TaskStates: map[string]*structs.TaskState{"app": {State: structs.TaskStateDead, FinishedAt: time.Now()}}})
			}
			if a.DesiredStatus == structs.AllocDesiredStatusRun && a.ClientStatus == structs.AllocClientStatusRunning {
				running++
				if a.NodeID == "n1" {
					n1++
				}
			}
		}
		if len(updates) > 0 {
			if err := ep.UpdateAllocations(ctx, updates); err != nil {
				t.Error(err)
			}
		}
		mu.Lock()
		onN1 = n1
		mu.Unlock()
		return running
	}
	waitLong(t, "three allocations running on n1", func() bool { return report() == 3 })

	for _, id := range []string{"n2", "n3"} {
		if _, err := ep.RegisterNode(ctx, testNode(id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ep.NodeUpdateDrain(ctx, &structs.NodeUpdateDrainRequest{NodeID: "n1",
		DrainSpec: &structs.DrainSpec{Deadline: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "the drain to complete", func() bool {
		running := report()
		mu.Lock()
		fewest = min(fewest, running)
		mu.Unlock()
		n, _, err := ep.NodeGet(ctx, nil, "n1")
		return err == nil && n.DrainStrategy == nil && running == 3
	})
	if fewest < 2 {
		t.Errorf("only %d allocations ran at one point, want at least count - max_parallel = 2", fewest)
	}
	if onN1 != 0 {
		t.Errorf("%d allocations still run on the drained node", onN1)
	}
	n, _, err := ep.NodeGet(ctx, nil, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if n.SchedulingEligibility != structs.NodeSchedulingIneligible || n.LastDrain == nil || n.LastDrain.Status != structs.DrainStatusComplete {
		t.Errorf("after the drain: eligibility %q, last drain %+v", n.SchedulingEligibility, n.LastDrain)
	}
}

// waitLong polls cond for up to 60 seconds.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
