package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestFollowersForwardWritesAndReadsToTheLeader(t *testing.T) {
	servers := testCluster(t, 3, nil)
	leader, followers := leaderOf(t, servers)
	ctx := context.Background()
	f := followers[0].Endpoints()

	resp, err := f.JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 1)})
	if err != nil {
		t.Fatalf("register through a follower: %v", err)
	}
	if resp.EvalID == "" || resp.Index == 0 {
		t.Fatalf("register answered %+v", resp)
	}
	// Acknowledged means committed: the leader has it at once.
	if j, err := leader.State().JobByID(nil, structs.DefaultNamespace, "web"); err != nil || j == nil {
		t.Fatalf("the leader lacks the acknowledged job: %v, %v", j, err)
	}

	// A default read is the leader's answer.
	job, meta, err := f.JobGet(ctx, &structs.QueryOptions{Namespace: structs.DefaultNamespace}, "web")
	if err != nil || job == nil || job.ID != "web" {
		t.Fatalf("read through a follower: %v, %v", job, err)
	}
	if !meta.KnownLeader || meta.LastContact != 0 || meta.Index < resp.JobModifyIndex {
		t.Fatalf("meta of a forwarded read: %+v (want known leader, no last contact, index ≥ %d)", meta, resp.JobModifyIndex)
	}

	// A stale read is the follower's own answer, with its last contact.
	waitFor(t, "the follower to apply the job", func() bool {
		j, _ := followers[1].State().JobByID(nil, structs.DefaultNamespace, "web")
		return j != nil
	})
	_, meta, err = followers[1].Endpoints().JobGet(ctx, &structs.QueryOptions{AllowStale: true}, "web")
	if err != nil || !meta.KnownLeader {
		t.Fatalf("stale read: %+v, %v", meta, err)
	}

	// Not found stays a 404 across the forward.
	if _, _, err := f.JobGet(ctx, &structs.QueryOptions{}, "nope"); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("missing job through a follower: %v, want not found", err)
	}
	// A bad request stays a 400.
	if _, err := f.JobRegister(ctx, &structs.JobRegisterRequest{}); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("empty register through a follower: %v, want bad request", err)
	}
}

func TestForwardedBlockingQueryReturnsWhenDataPassesIndex(t *testing.T) {
	servers := testCluster(t, 3, nil)
	_, followers := leaderOf(t, servers)
	ctx := context.Background()
	resp, err := followers[0].Endpoints().JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 1)})
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		meta structs.QueryMeta
		err  error
	}
	done := make(chan result, 1)
	go func() {
		q := &structs.QueryOptions{MinQueryIndex: resp.JobModifyIndex, MaxQueryTime: time.Minute}
		_, meta, err := followers[0].Endpoints().JobGet(ctx, q, "web")
		done <- result{meta, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("the blocking query returned before any change: %+v, %v", r.meta, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	next, err := followers[1].Endpoints().JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 2)})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.meta.Index < next.JobModifyIndex {
			t.Fatalf("blocking query: %+v, %v; want index ≥ %d", r.meta, r.err, next.JobModifyIndex)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the blocking query did not return after the change")
	}
}

func TestClientCallsWorkThroughAnyServer(t *testing.T) {
	servers := testCluster(t, 3, nil)
	leader, followers := leaderOf(t, servers)
	ctx := context.Background()
	f := followers[0].Endpoints()
	ttl, err := f.RegisterNode(ctx, testNode("n1"))
	if err != nil || ttl <= 0 {
		t.Fatalf("register node through a follower: %v, %v", ttl, err)
	}
	if _, err := f.Heartbeat(ctx, "n1", structs.NodeStatusReady); err != nil {
		t.Fatalf("heartbeat through a follower: %v", err)
	}
	if _, err := leader.Endpoints().JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 1)}); err != nil {
		t.Fatal(err)
	}
	var allocs []*structs.Allocation
	waitFor(t, "the allocation to reach the follower", func() bool {
		allocs, _, err = f.NodeAllocations(ctx, "n1", 0, 0)
		return err == nil && len(allocs) == 1
	})
	up := allocs[0].Copy()
	up.ClientStatus = structs.AllocClientStatusRunning
	if err := f.UpdateAllocations(ctx, []*structs.Allocation{up}); err != nil {
		t.Fatalf("update allocations through a follower: %v", err)
	}
	a, err := leader.State().AllocByID(nil, up.ID)
	if err != nil || a.ClientStatus != structs.AllocClientStatusRunning {
		t.Fatalf("the leader did not record the client update: %+v, %v", a, err)
	}
}
