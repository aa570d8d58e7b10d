package endpoints

import (
	"context"
	"fmt"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/structs"
)

// AllocStopArgs are AllocStop's arguments.
type AllocStopArgs struct {
	Namespace       string
	AllocID         string
	NoShutdownDelay bool
}

func init() {
	rpcMethods["AllocStop"] = withArgs(func(ctx context.Context, e *Endpoints, a *AllocStopArgs) (any, error) {
		r, err := e.AllocStop(ctx, a.Namespace, a.AllocID, a.NoShutdownDelay)
		if err != nil {
			return nil, err
		}
		return &IndexedReply[structs.AllocStopResponse]{Value: r, Index: r.Index}, nil
	})
}

// AllocStop stops one allocation and has it replaced, as Nomad's alloc
// stop: the allocation is marked to migrate and an evaluation of its job,
// committed in the same entry, stops it and places a replacement.
func (e *Endpoints) AllocStop(ctx context.Context, namespace, allocID string, noShutdownDelay bool) (*structs.AllocStopResponse, error) {
	var fwd IndexedReply[structs.AllocStopResponse]
	args := &AllocStopArgs{Namespace: namespace, AllocID: allocID, NoShutdownDelay: noShutdownDelay}
	if ok, err := e.forward(ctx, "AllocStop", false, args, &fwd); ok {
		if err != nil {
			return nil, err
		}
		fwd.Value.Index = fwd.Index
		return fwd.Value, nil
	}
	alloc, err := e.d.State().AllocByID(nil, allocID)
	if err != nil {
		return nil, err
	}
	if alloc == nil || (namespace != "" && namespace != "*" && alloc.Namespace != namespace) {
		return nil, structs.NotFound(fmt.Errorf("allocation %q not found", allocID))
	}
	if alloc.Job == nil {
		return nil, fmt.Errorf("allocation %q has no job", allocID)
	}
	eval := e.newEval(alloc.Job, structs.EvalTriggerAllocStop)
	eval.Namespace = alloc.Namespace
	eval.JobModifyIndex = alloc.Job.ModifyIndex
	migrate := true
	index, err := e.d.Apply(fsm.AllocUpdateDesiredTransition, &fsm.AllocUpdateDesiredTransitionRequest{
		Allocs: map[string]*structs.DesiredTransition{allocID: {Migrate: &migrate, NoShutdownDelay: &noShutdownDelay}},
		Evals:  []*structs.Evaluation{eval},
	})
	if err != nil {
		return nil, err
	}
	return &structs.AllocStopResponse{EvalID: eval.ID, Index: index}, nil
}
