package endpoints

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// JobVersions lists the kept versions of a job, newest first; with diffs,
// also what changed from each version to the next.
func (e *Endpoints) JobVersions(ctx context.Context, q *structs.QueryOptions, jobID string, diffs bool) (*structs.JobVersionsResponse, structs.QueryMeta, error) {
	stale := q != nil && q.AllowStale
	var fwd ReadReply[*structs.JobVersionsResponse]
	if ok, err := e.forward(ctx, "JobVersions", stale, &JobVersionsArgs{Query: q, JobID: jobID, Diffs: diffs}, &fwd); ok {
		return fwd.Value, fwd.Meta, err
	}
	out := &structs.JobVersionsResponse{}
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		versions, err := s.JobVersions(ws, namespaceOf(q), jobID)
		if err != nil {
			return 0, err
		}
		out.Versions, out.Diffs = versions, nil
		if diffs {
			for i := 0; i+1 < len(versions); i++ {
				out.Diffs = append(out.Diffs, versions[i+1].Diff(versions[i], false))
			}
		}
		return tableIndex(s, state.TableJobVersions, "jobs")
	})
	if err == nil && len(out.Versions) == 0 {
		err = structs.NotFound(fmt.Errorf("job %q not found", jobID))
	}
	return out, meta, err
}

// JobRevert submits a kept earlier version of a job again, as its newest
// version.
func (e *Endpoints) JobRevert(ctx context.Context, namespace string, req *structs.JobRevertRequest) (*structs.JobRegisterResponse, error) {
	if r, ok, err := e.forwardRegister(ctx, "JobRevert", &JobRevertArgs{Namespace: namespace, Request: req}); ok {
		return r, err
	}
	if req == nil || req.JobID == "" {
		return nil, structs.BadRequest(errors.New("revert needs a job ID"))
	}
	s := e.d.State()
	current, err := s.JobByID(nil, namespace, req.JobID)
	if err != nil {
		return nil, err
	}
	if current == nil {
		return nil, structs.NotFound(fmt.Errorf("job %q not found", req.JobID))
	}
	if p := req.EnforcePriorVersion; p != nil && *p != current.Version {
		return nil, structs.BadRequest(fmt.Errorf("current version %d of job %q does not match the prior version %d asked for", current.Version, req.JobID, *p))
	}
	if req.JobVersion == current.Version {
		return nil, structs.BadRequest(fmt.Errorf("job %q already is at version %d", req.JobID, req.JobVersion))
	}
	old, err := s.JobByIDAndVersion(nil, namespace, req.JobID, req.JobVersion)
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, structs.NotFound(fmt.Errorf("version %d of job %q not found (the last %d versions are kept)", req.JobVersion, req.JobID, state.JobTrackedVersions))
	}
	// The new version has yet to prove itself stable.
	old.Stable = false
	// Registered only over the version just read, so a revert never
	// silently undoes a change that came in meanwhile.
	return e.JobRegister(ctx, &structs.JobRegisterRequest{Job: old, EnforceIndex: true, JobModifyIndex: current.JobModifyIndex})
}

// JobScale sets the count of one group of a job, as a new version.
func (e *Endpoints) JobScale(ctx context.Context, namespace, jobID string, req *structs.ScalingRequest) (*structs.JobRegisterResponse, error) {
	if r, ok, err := e.forwardRegister(ctx, "JobScale", &JobScaleArgs{Namespace: namespace, JobID: jobID, Request: req}); ok {
		return r, err
	}
	if req == nil || req.Count == nil {
		return nil, structs.BadRequest(errors.New("scaling needs a count"))
	}
	if *req.Count < 0 {
		return nil, structs.BadRequest(fmt.Errorf("count must not be negative, got %d", *req.Count))
	}
	current, err := e.d.State().JobByID(nil, namespace, jobID)
	if err != nil {
		return nil, err
	}
	if current == nil {
		return nil, structs.NotFound(fmt.Errorf("job %q not found", jobID))
	}
	if j := req.Target[structs.ScalingTargetJob]; j != "" && j != jobID {
		return nil, structs.BadRequest(fmt.Errorf("scaling target job %q does not match job %q", j, jobID))
	}
	if current.Type == structs.JobTypeSystem || current.Type == structs.JobTypeSysBatch {
		return nil, structs.BadRequest(fmt.Errorf("job %q is a %s job: it runs on every eligible node and has no count to scale", jobID, current.Type))
	}
	group := req.Target[structs.ScalingTargetGroup]
	if group == "" {
		if len(current.TaskGroups) != 1 {
			return nil, structs.BadRequest(fmt.Errorf("job %q has %d groups: name the one to scale", jobID, len(current.TaskGroups)))
		}
		group = current.TaskGroups[0].Name
	}
	job := current.Copy()
	tg := job.LookupTaskGroup(group)
	if tg == nil {
		return nil, structs.NotFound(fmt.Errorf("job %q has no group %q", jobID, group))
	}
	tg.Count = int(*req.Count)
	return e.JobRegister(ctx, &structs.JobRegisterRequest{Job: job, EnforceIndex: true, JobModifyIndex: current.JobModifyIndex})
}

// JobStability marks a kept version of a job stable (or not), as a
// deployment that became healthy would; it makes no new version.
func (e *Endpoints) JobStability(ctx context.Context, namespace string, req *structs.JobStabilityRequest) (*structs.JobStabilityResponse, error) {
	var fwd structs.JobStabilityResponse
	if ok, err := e.forward(ctx, "JobStability", false, &JobStabilityArgs{Namespace: namespace, Request: req}, &fwd); ok {
		if err != nil {
			return nil, err
		}
		return &fwd, nil
	}
	if req == nil || req.JobID == "" {
		return nil, structs.BadRequest(errors.New("stability needs a job ID"))
	}
	v, err := e.d.State().JobByIDAndVersion(nil, namespace, req.JobID, req.JobVersion)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, structs.NotFound(fmt.Errorf("version %d of job %q not found", req.JobVersion, req.JobID))
	}
	index, err := e.d.Apply(fsm.JobStability, &fsm.JobStabilityRequest{Namespace: namespace, JobID: req.JobID, JobVersion: req.JobVersion, Stable: req.Stable})
	if err != nil {
		return nil, err
	}
	return &structs.JobStabilityResponse{Index: index}, nil
}
