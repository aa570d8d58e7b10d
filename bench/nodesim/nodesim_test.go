package nodesim

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/structs"
)

// fakeServers answers the client calls the way the servers do, from
// memory: each node gets one allocation per placement; a blocking query
// waits until its node's allocations change.
type fakeServers struct {
	mu         sync.Mutex
	nodes      map[string]*structs.Node
	statuses   map[string]string // node ID -> last heartbeat status
	allocs     map[string][]*structs.Allocation
	index      uint64
	changed    chan struct{}
	updates    [][]*structs.Allocation
	heartbeats int
}

func newFakeServers() *fakeServers {
	return &fakeServers{nodes: map[string]*structs.Node{}, statuses: map[string]string{},
		allocs: map[string][]*structs.Allocation{}, changed: make(chan struct{}), index: 1}
}

// place gives every node one pending allocation of a one-task group.
func (f *fakeServers) place() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.index++
	for id := range f.nodes {
		f.allocs[id] = append(f.allocs[id], &structs.Allocation{
			ID: fmt.Sprintf("alloc-%s-%d", id, f.index), NodeID: id, TaskGroup: "g",
			DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusPending,
			AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{"t": {}}},
			ModifyIndex:        f.index,
		})
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeServers) ServeRPC(ctx context.Context, method string, args rpc.Args) (any, error) {
	switch method {
	case "Endpoints.RegisterNode":
		var a structs.NodeRegisterArgs
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.nodes[a.Node.ID] = a.Node
		f.statuses[a.Node.ID] = a.Node.Status
		f.mu.Unlock()
		return &structs.HeartbeatTTLReply{TTL: 10 * time.Second}, nil
	case "Endpoints.Heartbeat":
		var a structs.NodeHeartbeatArgs
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.statuses[a.NodeID] = a.Status
		f.heartbeats++
		f.mu.Unlock()
		return &structs.HeartbeatTTLReply{TTL: 10 * time.Second}, nil
	case "Endpoints.NodeAllocations":
		var a structs.NodeAllocationsArgs
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		for {
			f.mu.Lock()
			allocs, index, changed := f.allocs[a.NodeID], f.index, f.changed
			f.mu.Unlock()
			if index > a.MinIndex {
				return &structs.NodeAllocationsReply{Allocs: allocs, Index: index}, nil
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	case "Endpoints.UpdateAllocations":
		var a []*structs.Allocation
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.updates = append(f.updates, a)
		f.mu.Unlock()
		return nil, nil
	}
	return nil, fmt.Errorf("unknown method %s", method)
}

// The simulator registers every node as a client does (distinct IDs and
// names, the mock driver healthy, initializing first), beats "ready" once
// a node has its allocations, and reports every allocation running in
// batched updates.
func TestSimRegistersBeatsAndReportsRunning(t *testing.T) {
	f := newFakeServers()
	m, err := rpc.Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	srv := rpc.Serve(m, f, logging.Discard())
	t.Cleanup(func() { srv.Close(); m.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const nodes = 50
	sim, err := Start(ctx, Config{Servers: []string{m.Addr().String()}, Nodes: nodes, UpdateInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Stop()

	f.mu.Lock()
	names := map[string]bool{}
	for _, n := range f.nodes {
		names[n.Name] = true
		if n.Status != structs.NodeStatusInit || !n.DriverHealthy(DriverName) || n.NodeClass == "" || n.NodeResources.Cpu.CpuShares <= 0 {
			t.Errorf("node %s registered as %+v", n.Name, n)
		}
	}
	f.mu.Unlock()
	if len(names) != nodes {
		t.Fatalf("%d distinct nodes registered, want %d", len(names), nodes)
	}

	select {
	case <-sim.Ready():
	case <-ctx.Done():
		t.Fatalf("nodes not ready: %+v", sim.Stats())
	}
	f.mu.Lock()
	for id, st := range f.statuses {
		if st != structs.NodeStatusReady {
			t.Errorf("node %s last beat %q", id, st)
		}
	}
	f.mu.Unlock()

	f.place()
	for sim.Stats().Running < nodes {
		select {
		case <-ctx.Done():
			t.Fatalf("allocations not reported running: %+v", sim.Stats())
		case <-time.After(5 * time.Millisecond):
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	reported := 0
	for _, batch := range f.updates {
		for _, a := range batch {
			reported++
			if a.ClientStatus != structs.AllocClientStatusRunning || a.TaskStates["t"] == nil || a.TaskStates["t"].State != structs.TaskStateRunning {
				t.Errorf("update %+v", a)
			}
		}
	}
	if reported != nodes || len(f.updates) >= nodes {
		t.Fatalf("%d allocations reported in %d calls: want %d, batched", reported, len(f.updates), nodes)
	}
	if s := sim.Stats(); s.Errors != 0 {
		t.Fatalf("errors: %+v", s)
	}
}
