package endpoints

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/structs"
)

func init() {
	rpcMethods["NodeUpdateDrain"] = withArgs(func(ctx context.Context, e *Endpoints, a *structs.NodeUpdateDrainRequest) (any, error) {
		r, err := e.NodeUpdateDrain(ctx, a)
		if err != nil {
			return nil, err
		}
		return &IndexedReply[structs.NodeDrainUpdateResponse]{Value: r, Index: r.Index}, nil
	})
}

// NodeUpdateDrain starts, changes or ends a node's drain. The deadline is
// fixed here, from the leader's clock: a positive Deadline ends at
// now + Deadline, a negative one forces the drain at once, 0 has none.
// The leader's drainer (server/nodes) does the rest.
func (e *Endpoints) NodeUpdateDrain(ctx context.Context, req *structs.NodeUpdateDrainRequest) (*structs.NodeDrainUpdateResponse, error) {
	var fwd IndexedReply[structs.NodeDrainUpdateResponse]
	if ok, err := e.forward(ctx, "NodeUpdateDrain", false, req, &fwd); ok {
		if err != nil {
			return nil, err
		}
		fwd.Value.Index = fwd.Index
		return fwd.Value, nil
	}
	if req == nil || req.NodeID == "" {
		return nil, structs.BadRequest(errors.New("drain: missing node ID"))
	}
	node, err := e.d.State().NodeByID(nil, req.NodeID)
	if err != nil {
		return nil, err
	}
	if node == nil {
		return nil, structs.NotFound(fmt.Errorf("node %q not found", req.NodeID))
	}
	now := time.Unix(0, e.now()).UTC()
	r := &fsm.NodeUpdateDrainRequest{NodeID: node.ID, MarkEligible: req.MarkEligible, UpdatedAt: now, Meta: req.Meta}
	switch {
	case req.DrainSpec != nil:
		r.DrainStrategy = &structs.DrainStrategy{DrainSpec: *req.DrainSpec, StartedAt: now}
		if req.DrainSpec.Deadline > 0 {
			r.DrainStrategy.ForceDeadline = now.Add(req.DrainSpec.Deadline)
		}
		r.Status = structs.DrainStatusDraining
	case node.DrainStrategy != nil:
		r.Status = structs.DrainStatusCanceled
	}
	if req.DrainSpec == nil && req.MarkEligible && node.Status == structs.NodeStatusReady {
		// Eligible again: system jobs may come back.
		if r.Evals, err = e.systemJobEvals(node.ID); err != nil {
			return nil, err
		}
	}
	index, err := e.d.Apply(fsm.NodeUpdateDrain, r)
	if err != nil {
		return nil, err
	}
	if req.DrainSpec == nil && req.MarkEligible {
		e.d.Blocked.Unblock()
	}
	return &structs.NodeDrainUpdateResponse{NodeModifyIndex: index, EvalIDs: evalIDsOf(r.Evals), EvalCreateIndex: index, Index: index}, nil
}

func init() {
	rpcMethods["NodeUpdateEligibility"] = withArgs(func(ctx context.Context, e *Endpoints, a *structs.NodeUpdateEligibilityRequest) (any, error) {
		r, err := e.NodeUpdateEligibility(ctx, a)
		if err != nil {
			return nil, err
		}
		return &IndexedReply[structs.NodeEligibilityUpdateResponse]{Value: r, Index: r.Index}, nil
	})
}

// NodeUpdateEligibility marks a node eligible or ineligible for new
// allocations. What already runs there stays.
func (e *Endpoints) NodeUpdateEligibility(ctx context.Context, req *structs.NodeUpdateEligibilityRequest) (*structs.NodeEligibilityUpdateResponse, error) {
	var fwd IndexedReply[structs.NodeEligibilityUpdateResponse]
	if ok, err := e.forward(ctx, "NodeUpdateEligibility", false, req, &fwd); ok {
		if err != nil {
			return nil, err
		}
		fwd.Value.Index = fwd.Index
		return fwd.Value, nil
	}
	if req == nil || req.NodeID == "" {
		return nil, structs.BadRequest(errors.New("eligibility: missing node ID"))
	}
	if err := req.Validate(); err != nil {
		return nil, structs.BadRequest(err)
	}
	node, err := e.d.State().NodeByID(nil, req.NodeID)
	if err != nil {
		return nil, err
	}
	if node == nil {
		return nil, structs.NotFound(fmt.Errorf("node %q not found", req.NodeID))
	}
	if node.DrainStrategy != nil && req.Eligibility == structs.NodeSchedulingEligible {
		return nil, structs.BadRequest(fmt.Errorf("node %q is draining: disable the drain to make it eligible", node.ID))
	}
	r := &fsm.NodeUpdateEligibilityRequest{NodeID: node.ID, Eligibility: req.Eligibility}
	eligibleAgain := req.Eligibility == structs.NodeSchedulingEligible && node.SchedulingEligibility != structs.NodeSchedulingEligible
	if eligibleAgain && node.Status == structs.NodeStatusReady {
		if r.Evals, err = e.systemJobEvals(node.ID); err != nil {
			return nil, err
		}
	}
	index, err := e.d.Apply(fsm.NodeUpdateEligibility, r)
	if err != nil {
		return nil, err
	}
	if eligibleAgain {
		e.d.Blocked.Unblock()
	}
	return &structs.NodeEligibilityUpdateResponse{NodeModifyIndex: index, EvalIDs: evalIDsOf(r.Evals), EvalCreateIndex: index, Index: index}, nil
}

// MigrateAllocs marks allocations to migrate off a draining node and
// evaluates their jobs in the same entry (the drainer's DrainWriter).
func (e *Endpoints) MigrateAllocs(allocs []*structs.Allocation) error {
	if len(allocs) == 0 {
		return nil
	}
	yes := true
	transitions := make(map[string]*structs.DesiredTransition, len(allocs))
	for _, a := range allocs {
		transitions[a.ID] = &structs.DesiredTransition{Migrate: &yes}
	}
	evals := e.evalsForJobsOf(allocs, structs.EvalTriggerNodeDrain, func(*structs.Allocation) bool { return true })
	for _, ev := range evals {
		ev.NodeID = allocs[0].NodeID
	}
	_, err := e.d.Apply(fsm.AllocUpdateDesiredTransition, &fsm.AllocUpdateDesiredTransitionRequest{Allocs: transitions, Evals: evals})
	return err
}

// CompleteDrain ends a node's finished drain: the strategy is cleared and
// the node stays ineligible, as Nomad's.
func (e *Endpoints) CompleteDrain(nodeID string) error {
	now := time.Unix(0, e.now()).UTC()
	_, err := e.d.Apply(fsm.NodeUpdateDrain, &fsm.NodeUpdateDrainRequest{NodeID: nodeID, Status: structs.DrainStatusComplete, UpdatedAt: now})
	return err
}

func evalIDsOf(evals []*structs.Evaluation) []string {
	ids := make([]string, 0, len(evals))
	for _, ev := range evals {
		ids = append(ids, ev.ID)
	}
	return ids
}
