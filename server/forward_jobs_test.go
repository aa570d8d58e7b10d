package server

import (
	"context"
	"testing"

	"github.com/drover-project/drover/structs"
)

// TestFollowersForwardVersionsScaleAndSchedulerConfig covers the writes that
// do not go through JobRegister's own forwarding.
func TestFollowersForwardVersionsScaleAndSchedulerConfig(t *testing.T) {
	servers := testCluster(t, 3, nil)
	leader, followers := leaderOf(t, servers)
	ctx := context.Background()
	f := followers[0].Endpoints()

	if _, err := f.JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 1)}); err != nil {
		t.Fatal(err)
	}
	count := int64(3)
	if _, err := f.JobScale(ctx, structs.DefaultNamespace, "web", &structs.ScalingRequest{Count: &count}); err != nil {
		t.Fatalf("scale through a follower: %v", err)
	}
	versions, _, err := f.JobVersions(ctx, &structs.QueryOptions{}, "web", true)
	if err != nil || len(versions.Versions) != 2 {
		t.Fatalf("versions through a follower: %v %+v", err, versions)
	}
	if _, err := f.JobStability(ctx, structs.DefaultNamespace, &structs.JobStabilityRequest{JobID: "web", JobVersion: 0, Stable: true}); err != nil {
		t.Fatalf("stability through a follower: %v", err)
	}
	if _, err := f.JobRevert(ctx, structs.DefaultNamespace, &structs.JobRevertRequest{JobID: "web", JobVersion: 0}); err != nil {
		t.Fatalf("revert through a follower: %v", err)
	}
	if j, _ := leader.State().JobByID(nil, structs.DefaultNamespace, "web"); j == nil || j.Version != 2 || j.TaskGroups[0].Count != 1 {
		t.Fatalf("leader's job after revert: %+v", j)
	}

	cfg, _, err := f.SchedulerGetConfig(ctx, &structs.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Copy()
	cfg.SchedulerAlgorithm = "spread"
	if ok, _, err := f.SchedulerSetConfig(ctx, cfg, false, 0); err != nil || !ok {
		t.Fatalf("scheduler config through a follower: %v %v", ok, err)
	}
	got, _, err := leader.Endpoints().SchedulerGetConfig(ctx, &structs.QueryOptions{})
	if err != nil || got.SchedulerAlgorithm != "spread" {
		t.Fatalf("leader's scheduler config: %+v %v", got, err)
	}
}
