package endpoints

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// JobRegister validates a job, stores it with an evaluation in one Raft
// entry, and returns the evaluation's ID.
func (e *Endpoints) JobRegister(ctx context.Context, req *structs.JobRegisterRequest) (*structs.JobRegisterResponse, error) {
	var fwd IndexedReply[structs.JobRegisterResponse]
	if ok, err := e.forward(ctx, "JobRegister", false, req, &fwd); ok {
		if err != nil {
			return nil, err
		}
		fwd.Value.Index = fwd.Index
		return fwd.Value, nil
	}
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
	// One read of the scheduler configuration serves the refusal and the
	// warnings of the answer.
	schedCfg, err := e.d.State().SchedulerConfig(nil)
	if err != nil {
		return nil, err
	}
	if err := registrationAllowed(schedCfg); err != nil {
		return nil, err
	}
	// Ingress ports are cluster-wide (services.go).
	if err := e.checkIngressPorts(job); err != nil {
		return nil, err
	}
	if req.EnforceIndex {
		// Only a check-and-set registration reads the current job before
		// the apply: a read copies the whole job.
		existing, err := e.d.State().JobByID(nil, job.Namespace, job.ID)
		if err != nil {
			return nil, err
		}
		var current uint64
		if existing != nil {
			current = existing.JobModifyIndex
		}
		if current != req.JobModifyIndex {
			return nil, structs.BadRequest(fmt.Errorf("enforcing job modify index %d: job %q exists with index %d", req.JobModifyIndex, job.ID, current))
		}
	}
	job.Stop = false
	job.Status = ""
	job.SubmitTime = e.now()

	eval := e.newEval(job, structs.EvalTriggerJobRegister)
	index, err := e.d.Apply(fsm.JobRegister, &fsm.JobRegisterRequest{Job: job, Eval: eval})
	if err != nil {
		return nil, err
	}
	resp := &structs.JobRegisterResponse{EvalID: eval.ID, EvalCreateIndex: index, JobModifyIndex: e.registeredJobModifyIndex(job, eval.ID, index), Index: index}
	resp.Warnings = schedulingWarnings(schedCfg, job)
	return resp, nil
}

// registeredJobModifyIndex is the JobModifyIndex a registration applied at
// index left the job at: index, unless the specification was unchanged.
// The state stamps it on the registration's evaluation in the same
// transaction, and an evaluation is much cheaper to read (a read copies)
// than the job; the job is read only if the evaluation is gone already.
func (e *Endpoints) registeredJobModifyIndex(job *structs.Job, evalID string, index uint64) uint64 {
	if ev, err := e.d.State().EvalByID(nil, evalID); err == nil && ev != nil && ev.JobModifyIndex != 0 {
		return ev.JobModifyIndex
	}
	if stored, err := e.d.State().JobByID(nil, job.Namespace, job.ID); err == nil && stored != nil {
		return stored.JobModifyIndex
	}
	return index
}

func (e *Endpoints) newEval(job *structs.Job, trigger string) *structs.Evaluation {
	now := e.now()
	return &structs.Evaluation{
		ID:          uuid.NewString(),
		Namespace:   job.Namespace,
		Priority:    job.Priority,
		Type:        job.Type,
		TriggeredBy: trigger,
		JobID:       job.ID,
		Status:      structs.EvalStatusPending,
		CreateTime:  now,
		ModifyTime:  now,
	}
}

// JobDeregister stops a job (a new, stopped version) or, with purge,
// removes it; either way an evaluation stops its allocations.
func (e *Endpoints) JobDeregister(ctx context.Context, namespace, jobID string, purge bool) (*structs.JobDeregisterResponse, error) {
	var fwd IndexedReply[structs.JobDeregisterResponse]
	if ok, err := e.forward(ctx, "JobDeregister", false, &JobDeregisterArgs{Namespace: namespace, JobID: jobID, Purge: purge}, &fwd); ok {
		if err != nil {
			return nil, err
		}
		fwd.Value.Index = fwd.Index
		return fwd.Value, nil
	}
	if namespace == "" {
		namespace = structs.DefaultNamespace
	}
	job, err := e.d.State().JobByID(nil, namespace, jobID)
	if err != nil {
		return nil, err
	}
	if job == nil {
		return nil, structs.NotFound(fmt.Errorf("job %q not found", jobID))
	}
	eval := e.newEval(job, structs.EvalTriggerJobDeregister)
	index, err := e.d.Apply(fsm.JobDeregister, &fsm.JobDeregisterRequest{Namespace: namespace, JobID: jobID, Purge: purge, Eval: eval})
	if err != nil {
		return nil, err
	}
	if purge {
		e.d.Blocked.Untrack(namespace, jobID)
	}
	return &structs.JobDeregisterResponse{EvalID: eval.ID, EvalCreateIndex: index, JobModifyIndex: index, Index: index}, nil
}

// JobList lists jobs of the namespace ("*" for all), filtered by ID prefix.
func (e *Endpoints) JobList(ctx context.Context, q *structs.QueryOptions) ([]*structs.JobListStub, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.JobListStub](ctx, e, "JobList", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	var out []*structs.JobListStub
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		out = []*structs.JobListStub{}
		jobs, err := s.Jobs(ws)
		if err != nil {
			return 0, err
		}
		ns := namespaceOf(q)
		for _, j := range jobs {
			if ns != "*" && j.Namespace != ns {
				continue
			}
			if q != nil && !strings.HasPrefix(j.ID, q.Prefix) {
				continue
			}
			sum, err := s.JobSummaryByID(ws, j.Namespace, j.ID)
			if err != nil {
				return 0, err
			}
			out = append(out, j.Stub(sum))
		}
		return tableIndex(s, "jobs", "job_summary")
	})
	return out, meta, err
}

// JobGet returns one job.
func (e *Endpoints) JobGet(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.Job, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.Job](ctx, e, "JobGet", ReadArgs{Query: q, ID: jobID}); ok {
		return out, meta, err
	}
	var out *structs.Job
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		j, err := s.JobByID(ws, namespaceOf(q), jobID)
		if err != nil {
			return 0, err
		}
		out = j
		return tableIndex(s, "jobs")
	})
	if err == nil && out == nil {
		err = structs.NotFound(fmt.Errorf("job %q not found", jobID))
	}
	return out, meta, err
}

// JobAllocations lists a job's allocations.
func (e *Endpoints) JobAllocations(ctx context.Context, q *structs.QueryOptions, jobID string, all bool) ([]*structs.AllocListStub, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.AllocListStub](ctx, e, "JobAllocations", ReadArgs{Query: q, ID: jobID, All: all}); ok {
		return out, meta, err
	}
	var out []*structs.AllocListStub
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		out = []*structs.AllocListStub{}
		allocs, err := s.AllocsByJob(ws, namespaceOf(q), jobID, all)
		if err != nil {
			return 0, err
		}
		for _, a := range allocs {
			out = append(out, a.Stub())
		}
		return tableIndex(s, "allocs")
	})
	return out, meta, err
}

// JobEvaluations lists a job's evaluations.
func (e *Endpoints) JobEvaluations(ctx context.Context, q *structs.QueryOptions, jobID string) ([]*structs.Evaluation, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.Evaluation](ctx, e, "JobEvaluations", ReadArgs{Query: q, ID: jobID}); ok {
		return out, meta, err
	}
	var out []*structs.Evaluation
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		evals, err := s.EvalsByJob(ws, namespaceOf(q), jobID)
		if err != nil {
			return 0, err
		}
		out = append([]*structs.Evaluation{}, evals...)
		return tableIndex(s, "evals")
	})
	return out, meta, err
}

// JobSummary returns a job's allocation counts per group.
func (e *Endpoints) JobSummary(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.JobSummary, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.JobSummary](ctx, e, "JobSummary", ReadArgs{Query: q, ID: jobID}); ok {
		return out, meta, err
	}
	var out *structs.JobSummary
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		sum, err := s.JobSummaryByID(ws, namespaceOf(q), jobID)
		if err != nil {
			return 0, err
		}
		out = sum
		return tableIndex(s, "job_summary")
	})
	if err == nil && out == nil {
		err = structs.NotFound(fmt.Errorf("job %q not found", jobID))
	}
	return out, meta, err
}
