package state

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// ApplyPlanResultsRequest is what the plan applier commits for one plan, in
// one raft entry. It lives here rather than in the fsm package because it is
// exactly the input of UpsertPlanResults; the fsm uses it as its log body.
type ApplyPlanResultsRequest struct {
	// Job is the job the plan was made for. Allocations in AllocsUpdated
	// without a job get it, so the plan need not repeat it in each one.
	Job *structs.Job
	// AllocsUpdated are placements and in-place updates, whole allocations.
	AllocsUpdated []*structs.Allocation
	// AllocsStopped are stops: of each, only ID, DesiredStatus (default
	// stop), DesiredDescription, ClientStatus and ClientDescription (when
	// lost or unknown), ModifyTime and NextAllocation are read.
	AllocsStopped []*structs.Allocation
	// EvalID is the evaluation the plan came from. Its ModifyIndex moves to
	// the plan's index, so whoever waits on that evaluation sees the plan.
	EvalID string
	// Evals are evaluations the plan creates or updates (follow-ups, blocked
	// evaluations), committed with it.
	Evals []*structs.Evaluation
	// Deployment is created or updated with the plan (see deployments.go);
	// DeploymentUpdates change other deployments' status.
	Deployment        *structs.Deployment               `json:",omitempty"`
	DeploymentUpdates []*structs.DeploymentStatusUpdate `json:",omitempty"`
}

// UpsertPlanResults commits a plan's stops and placements atomically.
func (s *StateStore) UpsertPlanResults(index uint64, req *ApplyPlanResultsRequest) error {
	if req == nil {
		return fmt.Errorf("state: nil plan results")
	}
	return s.write(index, func(w *writer) error {
		// The deployment first: the placements below count in it.
		if req.Deployment != nil {
			if err := w.upsertDeployment(req.Deployment); err != nil {
				return err
			}
		}
		for _, u := range req.DeploymentUpdates {
			if err := w.updateDeploymentStatus(u); err != nil {
				return err
			}
		}
		for _, stop := range req.AllocsStopped {
			if err := w.stopAlloc(stop); err != nil {
				return err
			}
		}
		for _, a := range req.AllocsUpdated {
			if err := w.upsertAlloc(a, req.Job); err != nil {
				return err
			}
		}
		if err := w.touchEval(req.EvalID); err != nil {
			return err
		}
		return w.upsertEvals(req.Evals)
	})
}

// touchEval moves an evaluation's ModifyIndex to this write's index.
func (w *writer) touchEval(id string) error {
	if id == "" {
		return nil
	}
	existing, err := get[*structs.Evaluation](w, TableEvals, id)
	if err != nil || existing == nil {
		return err
	}
	c := existing.Copy()
	c.ModifyIndex = w.index
	return w.insert(TableEvals, c)
}
