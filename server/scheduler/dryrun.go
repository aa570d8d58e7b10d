package scheduler

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/drover-project/drover/structs"
)

// DryRunResult is what an evaluation would do.
type DryRunResult struct {
	// Plan is the last plan the scheduler made, with its annotations.
	Plan *structs.Plan
	// Eval is the evaluation as the scheduler would have recorded it,
	// with its placement failures.
	Eval *structs.Evaluation
	// Created are the evaluations it would have created (a blocked one).
	Created []*structs.Evaluation
}

// DryRun processes eval against state and records what would happen
// without committing anything. It is how `job plan` answers: state holds
// the proposed job, and eval.AnnotatePlan asks for per-group counts.
func DryRun(logger *slog.Logger, state State, eval *structs.Evaluation, clock func() time.Time) (*DryRunResult, error) {
	p := &recordingPlanner{}
	if err := New(logger, state, p, clock).Process(eval); err != nil {
		return nil, err
	}
	if p.result.Eval == nil {
		return nil, fmt.Errorf("dry run of evaluation %s recorded no outcome", eval.ID)
	}
	return &p.result, nil
}

// recordingPlanner accepts every plan whole and keeps it.
type recordingPlanner struct{ result DryRunResult }

func (p *recordingPlanner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, State, error) {
	p.result.Plan = plan
	return &structs.PlanResult{NodeUpdate: plan.NodeUpdate, NodeAllocation: plan.NodeAllocation}, nil, nil
}

func (p *recordingPlanner) UpdateEval(eval *structs.Evaluation) error {
	p.result.Eval = eval
	return nil
}

func (p *recordingPlanner) CreateEval(eval *structs.Evaluation) error {
	p.result.Created = append(p.result.Created, eval)
	return nil
}
