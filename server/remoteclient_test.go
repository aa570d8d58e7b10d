package server

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/drover-project/drover/internal/rpc/serversclient"
	"github.com/drover-project/drover/structs"
)

// A remote client reaches the servers over RPC only: through a follower,
// after skipping a server that does not answer.
func TestRemoteClientOverRPC(t *testing.T) {
	servers := testCluster(t, 3, nil)
	leader, followers := leaderOf(t, servers)
	ctx := context.Background()

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there now

	c, err := serversclient.New([]string{deadAddr, followers[0].RPCAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	node := testNode("n1")
	node.SecretID = "s3cr3t"
	if ttl, err := c.RegisterNode(ctx, node); err != nil || ttl <= 0 {
		t.Fatalf("register: %v, %v", ttl, err)
	}
	stored, err := leader.State().NodeByID(nil, "n1")
	if err != nil || stored == nil || stored.SecretID != "s3cr3t" {
		t.Fatalf("the leader's node: %+v, %v (want the secret kept)", stored, err)
	}
	if _, err := c.Heartbeat(ctx, "n1", structs.NodeStatusReady); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if _, err := c.Heartbeat(ctx, "nope", structs.NodeStatusReady); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("heartbeat of an unknown node: %v, want not found", err)
	}
	if _, err := leader.Endpoints().JobRegister(ctx, &structs.JobRegisterRequest{Job: testJob("web", 1)}); err != nil {
		t.Fatal(err)
	}
	var allocs []*structs.Allocation
	waitFor(t, "the allocation", func() bool {
		allocs, _, err = c.NodeAllocations(ctx, "n1", 0, 0)
		return err == nil && len(allocs) == 1
	})
	cfg := allocs[0].Job.TaskGroups[0].Tasks[0].Config
	if ports, ok := cfg["ports"].([]any); !ok || len(ports) != 1 || ports[0] != "http" {
		t.Fatalf("task config after RPC: %#v", cfg)
	}
	up := &structs.Allocation{ID: allocs[0].ID, ClientStatus: structs.AllocClientStatusRunning}
	if err := c.UpdateAllocations(ctx, []*structs.Allocation{up}); err != nil {
		t.Fatalf("update allocations: %v", err)
	}
	a, _ := leader.State().AllocByID(nil, up.ID)
	if a == nil || a.ClientStatus != structs.AllocClientStatusRunning {
		t.Fatalf("the leader's allocation: %+v", a)
	}
}
