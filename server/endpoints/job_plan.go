package endpoints

import (
	"context"
	"errors"
	"fmt"

	"github.com/drover-project/drover/server/scheduler"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// JobPlan answers what registering the job would do, without doing it: the
// scheduler runs on a snapshot in which the job is replaced by the proposed
// one, with a planner that records instead of committing. The answer
// carries the diff against the running version, per-group counts of what
// would be created, destroyed or updated, the placements that would fail,
// and the running version's modify index for `job run -check-index`.
//
// It runs on the server that receives it, as a read: a follower plans
// against its own (possibly slightly older) copy of the state.
func (e *Endpoints) JobPlan(ctx context.Context, req *structs.JobPlanRequest) (*structs.JobPlanResponse, error) {
	if req == nil || req.Job == nil {
		return nil, structs.BadRequest(errors.New("missing job"))
	}
	job := req.Job.Copy()
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		return nil, structs.BadRequest(err)
	}
	if job.Region != e.d.Region {
		return nil, structs.BadRequest(fmt.Errorf("job %q is for region %q, but this cluster is region %q", job.ID, job.Region, e.d.Region))
	}
	// Ingress ports are cluster-wide (services.go).
	if err := e.checkIngressPorts(job); err != nil {
		return nil, err
	}
	snap, err := e.d.State().Snapshot()
	if err != nil {
		return nil, err
	}
	existing, err := snap.JobByID(nil, job.Namespace, job.ID)
	if err != nil {
		return nil, err
	}

	// The proposed job, as registering it would store it.
	job.Stop = false
	job.Status = ""
	job.SubmitTime = e.now()
	diff := existing.Diff(job, true)
	if existing != nil {
		job.CreateIndex = existing.CreateIndex
		job.Version = existing.Version
		job.JobModifyIndex = existing.JobModifyIndex
		if diff.Type != structs.DiffTypeNone || existing.Stop {
			job.Version++
			job.JobModifyIndex++
		}
	}

	eval := e.newEval(job, structs.EvalTriggerJobRegister)
	eval.JobModifyIndex = job.JobModifyIndex
	eval.AnnotatePlan = true
	res, err := scheduler.DryRun(e.log, plannedState{snapshotState{snap}, job}, eval, e.d.Now)
	if err != nil {
		return nil, fmt.Errorf("plan job %q: %w", job.ID, err)
	}

	resp := &structs.JobPlanResponse{FailedTGAllocs: res.Eval.FailedTGAllocs, CreatedEvals: res.Created}
	if res.Plan != nil {
		resp.Annotations = res.Plan.Annotations
	}
	if existing != nil {
		resp.JobModifyIndex = existing.JobModifyIndex
	}
	if req.Diff {
		diff.Annotate(resp.Annotations)
		resp.Diff = diff
	}
	return resp, nil
}

// snapshotState adapts a state snapshot to the scheduler's interface.
type snapshotState struct{ s *state.StateSnapshot }

func (s snapshotState) JobByID(namespace, id string) (*structs.Job, error) {
	return s.s.JobByID(nil, namespace, id)
}

func (s snapshotState) AllocsByJob(namespace, jobID string) ([]*structs.Allocation, error) {
	return s.s.AllocsByJob(nil, namespace, jobID, true)
}

func (s snapshotState) AllocsByNode(nodeID string) ([]*structs.Allocation, error) {
	return s.s.AllocsByNode(nil, nodeID)
}

func (s snapshotState) Nodes() ([]*structs.Node, error) { return s.s.Nodes(nil) }

func (s snapshotState) NodeByID(id string) (*structs.Node, error) { return s.s.NodeByID(nil, id) }

func (s snapshotState) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	return s.s.SchedulerConfig(nil)
}

// plannedState is a snapshot in which one job is replaced by a proposal.
type plannedState struct {
	snapshotState
	job *structs.Job
}

func (s plannedState) JobByID(namespace, id string) (*structs.Job, error) {
	if namespace == s.job.Namespace && id == s.job.ID {
		return s.job, nil
	}
	return s.snapshotState.JobByID(namespace, id)
}
