package server

import (
	"context"
	"errors"
	"testing"

	"github.com/drover-project/drover/structs"
)

// TestServerSystemJobReachesNodesThatJoinLater: a system job runs on the
// node there is, and a node that registers afterwards gets its own
// allocation from the evaluation its registration creates; a node that
// goes down and beats again is evaluated too.
func TestServerSystemJobReachesNodesThatJoinLater(t *testing.T) {
	_, ep := oneNodeServer(t)
	ctx := context.Background()
	job := testJob("sys", 1)
	job.Type = structs.JobTypeSystem
	if _, err := ep.JobRegister(ctx, &structs.JobRegisterRequest{Job: job}); err != nil {
		t.Fatal(err)
	}
	onNodes := func() map[string]bool {
		allocs, _, err := ep.JobAllocations(ctx, nil, "sys", false)
		if err != nil {
			return nil
		}
		nodes := map[string]bool{}
		for _, a := range allocs {
			if a.DesiredStatus == structs.AllocDesiredStatusRun {
				nodes[a.NodeID] = true
			}
		}
		return nodes
	}
	waitFor(t, "the system job on n1", func() bool { return onNodes()["n1"] })

	if _, err := ep.RegisterNode(ctx, testNode("n2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the system job on n2, which joined later", func() bool {
		n := onNodes()
		return n["n1"] && n["n2"] && len(n) == 2
	})
	// The registration's evaluation names the node.
	evals, _, err := ep.JobEvaluations(ctx, nil, "sys")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evals {
		found = found || (e.NodeID == "n2" && e.TriggeredBy == structs.EvalTriggerNodeUpdate)
	}
	if !found {
		t.Errorf("no node-update evaluation for n2 among %d", len(evals))
	}
}

// TestServerJobPlanVersionsScaleRevert drives the plan, versions, scale
// and revert endpoints on one server.
func TestServerJobPlanVersionsScaleRevert(t *testing.T) {
	_, ep := oneNodeServer(t)
	ctx := context.Background()
	plan, err := ep.JobPlan(ctx, &structs.JobPlanRequest{Job: testJob("web", 2), Diff: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Diff.Type != structs.DiffTypeAdded || plan.Annotations.DesiredTGUpdates["web"].Place != 2 || plan.JobModifyIndex != 0 {
		t.Fatalf("plan of a new job: %+v", plan)
	}
	if _, err := ep.JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 2)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two allocations", func() bool {
		allocs, _, err := ep.JobAllocations(ctx, nil, "web", false)
		return err == nil && len(allocs) == 2
	})

	count := int64(3)
	if _, err := ep.JobScale(ctx, "default", "web", &structs.ScalingRequest{Count: &count}); err != nil {
		t.Fatal(err)
	}
	versions, _, err := ep.JobVersions(ctx, nil, "web", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions.Versions) != 2 || versions.Versions[0].TaskGroups[0].Count != 3 || len(versions.Diffs) != 1 {
		t.Fatalf("versions = %d, diffs = %d", len(versions.Versions), len(versions.Diffs))
	}
	if _, err := ep.JobRevert(ctx, "default", &structs.JobRevertRequest{JobID: "web", JobVersion: 0}); err != nil {
		t.Fatal(err)
	}
	job, _, err := ep.JobGet(ctx, nil, "web")
	if err != nil || job.Version != 2 || job.TaskGroups[0].Count != 2 {
		t.Fatalf("after revert: %+v, %v", job, err)
	}
	if _, err := ep.JobRevert(ctx, "default", &structs.JobRevertRequest{JobID: "web", JobVersion: 9}); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("revert to an unknown version: %v", err)
	}
	prior := uint64(1)
	if _, err := ep.JobRevert(ctx, "default", &structs.JobRevertRequest{JobID: "web", JobVersion: 0, EnforcePriorVersion: &prior}); !errors.Is(err, structs.ErrBadRequest) {
		t.Errorf("revert with a stale prior version: %v", err)
	}

	waitFor(t, "every evaluation of the job done", func() bool {
		evals, _, err := ep.JobEvaluations(ctx, nil, "web")
		if err != nil {
			return false
		}
		for _, e := range evals {
			if !e.Terminal() {
				return false
			}
		}
		return true
	})
	// A plan of the running job changes nothing.
	plan, err = ep.JobPlan(ctx, &structs.JobPlanRequest{Job: testJob("web", 2), Diff: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Annotations.Changes() || plan.Diff.Type != structs.DiffTypeNone || plan.JobModifyIndex != job.JobModifyIndex {
		t.Errorf("plan of the running job: diff %s, updates %+v, index %d (job %d)", plan.Diff.Type, plan.Annotations.DesiredTGUpdates["web"], plan.JobModifyIndex, job.JobModifyIndex)
	}
}
