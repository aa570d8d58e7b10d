package endpoints

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// NodeList lists nodes, filtered by ID prefix.
func (e *Endpoints) NodeList(ctx context.Context, q *structs.QueryOptions) ([]*structs.NodeListStub, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.NodeListStub](ctx, e, "NodeList", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	var out []*structs.NodeListStub
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		out = []*structs.NodeListStub{}
		nodes, err := s.Nodes(ws)
		if err != nil {
			return 0, err
		}
		for _, n := range nodes {
			if q != nil && !strings.HasPrefix(n.ID, q.Prefix) {
				continue
			}
			out = append(out, n.Stub())
		}
		return tableIndex(s, "nodes")
	})
	return out, meta, err
}

// NodeGet returns one node.
func (e *Endpoints) NodeGet(ctx context.Context, q *structs.QueryOptions, nodeID string) (*structs.Node, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.Node](ctx, e, "NodeGet", ReadArgs{Query: q, ID: nodeID}); ok {
		return out, meta, err
	}
	var out *structs.Node
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		n, err := s.NodeByID(ws, nodeID)
		if err != nil {
			return 0, err
		}
		out = n
		return tableIndex(s, "nodes")
	})
	if err == nil && out == nil {
		err = structs.NotFound(fmt.Errorf("node %q not found", nodeID))
	}
	return out, meta, err
}

// RegisterNode creates or updates a client's node and starts its heartbeat
// timer. A new or returning node may be the capacity a blocked job waits for.
func (e *Endpoints) RegisterNode(ctx context.Context, node *structs.Node) (time.Duration, error) {
	var reply structs.HeartbeatTTLReply
	args := &structs.NodeRegisterArgs{Node: node}
	if node != nil {
		args.SecretID = node.SecretID
	}
	if ok, err := e.forward(ctx, "RegisterNode", false, args, &reply); ok {
		return reply.TTL, err
	}
	if node == nil || node.ID == "" {
		return 0, structs.BadRequest(errors.New("node registration needs a node with an ID"))
	}
	if node.Name == "" {
		return 0, structs.BadRequest(errors.New("node registration needs a node name"))
	}
	n := node.Copy()
	if n.Status == "" {
		n.Status = structs.NodeStatusReady
	}
	if n.SchedulingEligibility == "" {
		n.SchedulingEligibility = structs.NodeSchedulingEligible
	}
	if n.Datacenter == "" {
		n.Datacenter = structs.DefaultDatacenter
	}
	if n.NodePool == "" {
		n.NodePool = "default"
	}
	n.StatusUpdatedAt = e.now()
	n.ComputedClass = n.ComputeClass()
	// Eligibility and drain belong to operators, not to the client.
	old, err := e.d.State().NodeByID(nil, n.ID)
	if err != nil {
		return 0, err
	} else if old != nil {
		n.SchedulingEligibility = old.SchedulingEligibility
		n.Drain = old.Drain
		n.DrainStrategy, n.LastDrain = old.DrainStrategy, old.LastDrain // node_drain.go
	}
	req := &fsm.NodeRegisterRequest{Node: n}
	if nodeNeedsSystemEvals(old, n) {
		if req.Evals, err = e.systemJobEvals(n.ID); err != nil {
			return 0, err
		}
	}
	if _, err := e.d.Apply(fsm.NodeRegister, req); err != nil {
		return 0, err
	}
	ttl := e.d.Heartbeats.Reset(n.ID)
	e.d.Blocked.Unblock()
	return ttl, nil
}

// Heartbeat renews a node's liveness. A node marked down that beats again
// comes back ready.
func (e *Endpoints) Heartbeat(ctx context.Context, nodeID, status string) (time.Duration, error) {
	var reply structs.HeartbeatTTLReply
	if ok, err := e.forward(ctx, "Heartbeat", false, &structs.NodeHeartbeatArgs{NodeID: nodeID, Status: status}, &reply); ok {
		return reply.TTL, err
	}
	node, err := e.d.State().NodeByID(nil, nodeID)
	if err != nil {
		return 0, err
	}
	if node == nil {
		return 0, structs.NotFound(fmt.Errorf("node %q not found", nodeID))
	}
	if status == "" {
		status = structs.NodeStatusReady
	}
	if node.Status != status {
		req := &fsm.NodeUpdateStatusRequest{NodeID: nodeID, Status: status, UpdatedAt: e.now()}
		if status == structs.NodeStatusReady {
			if req.Evals, err = e.systemJobEvals(nodeID); err != nil {
				return 0, err
			}
		}
		if _, err := e.d.Apply(fsm.NodeUpdateStatus, req); err != nil {
			return 0, err
		}
		if status == structs.NodeStatusReady {
			e.d.Blocked.Unblock()
		}
	}
	return e.d.Heartbeats.Reset(nodeID), nil
}

// MarkNodeDown records that a node stopped beating and creates an
// evaluation for every job with allocations there, so they are replaced.
func (e *Endpoints) MarkNodeDown(nodeID string) error {
	req := &fsm.NodeUpdateStatusRequest{NodeID: nodeID, Status: structs.NodeStatusDown, UpdatedAt: e.now()}
	if _, err := e.d.Apply(fsm.NodeUpdateStatus, req); err != nil {
		return err
	}
	e.d.Heartbeats.Remove(nodeID)
	allocs, err := e.d.State().AllocsByNode(nil, nodeID)
	if err != nil {
		return err
	}
	evals := e.evalsForJobsOf(allocs, structs.EvalTriggerNodeUpdate, func(a *structs.Allocation) bool { return !a.Terminal() })
	for _, ev := range evals {
		ev.NodeID = nodeID
	}
	return e.applyEvals(evals)
}

// evalsForJobsOf makes one evaluation per live job among allocs that match.
func (e *Endpoints) evalsForJobsOf(allocs []*structs.Allocation, trigger string, match func(*structs.Allocation) bool) []*structs.Evaluation {
	seen := map[[2]string]bool{}
	var evals []*structs.Evaluation
	for _, a := range allocs {
		key := [2]string{a.Namespace, a.JobID}
		if !match(a) || seen[key] {
			continue
		}
		seen[key] = true
		job, err := e.d.State().JobByID(nil, a.Namespace, a.JobID)
		if err != nil || job == nil {
			continue // a purged job has nothing left to schedule
		}
		evals = append(evals, e.newEval(job, trigger))
	}
	return evals
}

func (e *Endpoints) applyEvals(evals []*structs.Evaluation) error {
	if len(evals) == 0 {
		return nil
	}
	_, err := e.d.Apply(fsm.EvalUpdate, &fsm.EvalUpdateRequest{Evals: evals})
	return err
}

// NodeAllocations is a client's blocking query for what it should run.
func (e *Endpoints) NodeAllocations(ctx context.Context, nodeID string, minIndex uint64, wait time.Duration) ([]*structs.Allocation, uint64, error) {
	return e.nodeAllocations(ctx, nodeID, minIndex, wait, true)
}

// nodeAllocations answers NodeAllocations. Without copies it returns the
// stored allocations themselves, for a caller that only encodes them (the
// RPC of a remote client); a client in the same process gets copies.
func (e *Endpoints) nodeAllocations(ctx context.Context, nodeID string, minIndex uint64, wait time.Duration, copies bool) ([]*structs.Allocation, uint64, error) {
	// Stale, as Nomad's: any server may tell a client what it runs, so
	// clients spread over the servers instead of all asking the leader.
	var reply structs.NodeAllocationsReply
	if ok, err := e.forward(ctx, "NodeAllocations", true, &structs.NodeAllocationsArgs{NodeID: nodeID, MinIndex: minIndex, Wait: wait}, &reply); ok {
		return reply.Allocs, reply.Index, err
	}
	var out []*structs.Allocation
	q := &structs.QueryOptions{MinQueryIndex: minIndex, MaxQueryTime: wait}
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		read := s.AllocsByNode
		if !copies {
			read = s.AllocsByNodeShared
		}
		allocs, err := read(ws, nodeID)
		if err != nil {
			return 0, err
		}
		out = allocs
		// The index is that of the newest change to this node's
		// allocations, so changes elsewhere do not wake this client.
		var max uint64
		for _, a := range allocs {
			if a.ModifyIndex > max {
				max = a.ModifyIndex
			}
		}
		if max == 0 {
			return tableIndex(s, "allocs")
		}
		return max, nil
	})
	return out, meta.Index, err
}

// UpdateAllocations records what a client reports of its allocations. A
// failed allocation gets its job re-evaluated (to replace it), and any that
// ended frees capacity a blocked job may be waiting for.
func (e *Endpoints) UpdateAllocations(ctx context.Context, allocs []*structs.Allocation) error {
	if ok, err := e.forward(ctx, "UpdateAllocations", false, allocs, nil); ok {
		return err
	}
	if len(allocs) == 0 {
		return nil
	}
	now := e.now()
	updates := make([]*structs.Allocation, 0, len(allocs))
	for _, a := range allocs {
		updates = append(updates, &structs.Allocation{
			ID:                a.ID,
			ClientStatus:      a.ClientStatus,
			ClientDescription: a.ClientDescription,
			TaskStates:        a.TaskStates,
			// The allocation's health in its deployment (deployments.go).
			DeploymentStatus: a.DeploymentStatus,
			ModifyTime:       now,
		})
	}
	if _, err := e.d.Apply(fsm.AllocClientUpdate, &fsm.AllocClientUpdateRequest{Allocs: updates}); err != nil {
		return err
	}

	var stored []*structs.Allocation
	ended := false
	for _, a := range allocs {
		// Only read, so the stored allocation itself.
		s, err := e.d.State().AllocByIDShared(a.ID)
		if err != nil {
			return err
		}
		if s == nil {
			continue
		}
		stored = append(stored, s)
		ended = ended || s.ClientTerminal()
	}
	evals := e.evalsForJobsOf(stored, structs.EvalTriggerRetryFailedAlloc, func(a *structs.Allocation) bool {
		return a.ClientStatus == structs.AllocClientStatusFailed && a.DesiredStatus == structs.AllocDesiredStatusRun && a.NextAllocation == ""
	})
	if err := e.applyEvals(evals); err != nil {
		return err
	}
	if ended {
		e.d.Blocked.Unblock()
	}
	return nil
}
