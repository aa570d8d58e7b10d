package server

import (
	"context"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/server/endpoints"
	"github.com/drover-project/drover/structs"
)

func testServer(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := New(Config{
		NodeName:  "s1",
		DataDir:   dir,
		RPCAddr:   "127.0.0.1:0",
		Bootstrap: true,
		DevMode:   true,
		Logger:    logging.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "leadership", func() bool { return s.IsLeader() && s.broker.Enabled() })
	return s
}

// waitFor polls cond until it holds. The deadline is generous on purpose:
// these tests run real Raft and gossip, and a step such as memberlist's
// failure detection takes a probe and then a suspicion timeout of 3s to
// 18s with the local timings in a pool of three (the 18s when the other
// live member's confirmation is late, as on a loaded machine). A passing
// run never waits for the deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// oneNodeServer is a test server, shut down when the test ends, with node
// n1 registered; it returns the server and its endpoints.
func oneNodeServer(t *testing.T) (*Server, *endpoints.Endpoints) {
	t.Helper()
	s := testServer(t, t.TempDir())
	t.Cleanup(func() { s.Shutdown() })
	ep := s.Endpoints()
	if _, err := ep.RegisterNode(context.Background(), testNode("n1")); err != nil {
		t.Fatal(err)
	}
	return s, ep
}

func testNode(id string) *structs.Node {
	return &structs.Node{
		ID: id, Name: "node-" + id, Datacenter: "dc1", Status: structs.NodeStatusReady,
		NodeResources: &structs.NodeResources{
			Cpu:    structs.NodeCpuResources{CpuShares: 4000, TotalCpuCores: 4},
			Memory: structs.NodeMemoryResources{MemoryMB: 8192},
		},
		Drivers: map[string]*structs.DriverInfo{"docker": {Detected: true, Healthy: true}},
	}
}

func testJob(id string, count int) *structs.Job {
	return &structs.Job{ID: id, TaskGroups: []*structs.TaskGroup{{
		Name: "web", Count: count,
		Networks: []*structs.NetworkResource{{DynamicPorts: []structs.Port{{Label: "http", To: 8080}}}},
		Tasks:    []*structs.Task{{Name: "app", Driver: "docker", Config: map[string]any{"image": "x:1", "ports": []any{"http"}}}},
	}}}
}

// TestServerSchedulesAndSurvivesRestart drives the whole control plane in
// one process: a registered job is evaluated, planned and committed as
// allocations; after a restart from the same data dir everything is back.
func TestServerSchedulesAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := testServer(t, dir)
	ctx := context.Background()
	ep := s.Endpoints()

	if _, err := ep.RegisterNode(ctx, testNode("n1")); err != nil {
		t.Fatal(err)
	}
	resp, err := ep.JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 2)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the evaluation to complete", func() bool {
		e, _, err := ep.EvalGet(ctx, nil, resp.EvalID)
		return err == nil && e.Status == structs.EvalStatusComplete
	})
	allocs, _, err := ep.JobAllocations(ctx, nil, "web", false)
	if err != nil || len(allocs) != 2 {
		t.Fatalf("allocations: %v %d", err, len(allocs))
	}
	nodeAllocs, index, err := ep.NodeAllocations(ctx, "n1", 0, time.Second)
	if err != nil || len(nodeAllocs) != 2 || index == 0 {
		t.Fatalf("node allocations: %v %d %d", err, len(nodeAllocs), index)
	}
	ports := map[int]bool{}
	for _, a := range nodeAllocs {
		p := a.AllocatedResources.Shared.Ports
		if len(p) != 1 || p[0].To != 8080 || ports[p[0].Value] {
			t.Fatalf("ports %+v", p)
		}
		ports[p[0].Value] = true
	}

	// The client reports them running.
	for _, a := range nodeAllocs {
		a.ClientStatus = structs.AllocClientStatusRunning
	}
	if err := ep.UpdateAllocations(ctx, nodeAllocs); err != nil {
		t.Fatal(err)
	}
	job, _, err := ep.JobGet(ctx, nil, "web")
	if err != nil || job.Status != structs.JobStatusRunning {
		t.Fatalf("job status %v %v", job, err)
	}

	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	s = testServer(t, dir)
	defer s.Shutdown()
	allocs, _, err = s.Endpoints().JobAllocations(ctx, nil, "web", false)
	if err != nil || len(allocs) != 2 || allocs[0].ClientStatus != structs.AllocClientStatusRunning {
		t.Fatalf("after restart: %v %+v", err, allocs)
	}

	// Purging stops both allocations.
	dresp, err := s.Endpoints().JobDeregister(ctx, "", "web", true)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stop evaluation", func() bool {
		e, _, err := s.Endpoints().EvalGet(ctx, nil, dresp.EvalID)
		return err == nil && e.Status == structs.EvalStatusComplete
	})
	nodeAllocs, _, _ = s.Endpoints().NodeAllocations(ctx, "n1", 0, time.Second)
	for _, a := range nodeAllocs {
		if a.DesiredStatus != structs.AllocDesiredStatusStop {
			t.Fatalf("alloc %s desired %s after purge", a.ID, a.DesiredStatus)
		}
	}
	if _, _, err := s.Endpoints().JobGet(ctx, nil, "web"); err == nil {
		t.Fatal("purged job still readable")
	}
}

// TestServerBlockedJobPlacedWhenCapacityAppears checks that a job that does
// not fit waits and is placed once a node registers, with no user action.
func TestServerBlockedJobPlacedWhenCapacityAppears(t *testing.T) {
	s := testServer(t, t.TempDir())
	defer s.Shutdown()
	ctx := context.Background()
	ep := s.Endpoints()
	resp, err := ep.JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("wait", 1)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed placement to be recorded", func() bool {
		e, _, err := ep.EvalGet(ctx, nil, resp.EvalID)
		return err == nil && e.Status == structs.EvalStatusComplete && e.BlockedEval != ""
	})
	if _, err := ep.RegisterNode(ctx, testNode("n1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the blocked job to be placed", func() bool {
		allocs, _, err := ep.JobAllocations(ctx, nil, "wait", false)
		return err == nil && len(allocs) == 1
	})
}
