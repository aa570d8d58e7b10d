package endpoints

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/deploy"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// DeploymentList lists deployments, newest first; q.Prefix narrows by ID.
func (e *Endpoints) DeploymentList(ctx context.Context, q *structs.QueryOptions) ([]*structs.Deployment, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.Deployment](ctx, e, "DeploymentList", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	var out []*structs.Deployment
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		var err error
		if q != nil && q.Prefix != "" {
			out, err = s.DeploymentsByIDPrefix(ws, q.Prefix)
		} else {
			out, err = s.Deployments(ws)
		}
		if err != nil {
			return 0, err
		}
		return tableIndex(s, state.TableDeployments)
	})
	return out, meta, err
}

// DeploymentGet returns one deployment by ID or unique ID prefix.
func (e *Endpoints) DeploymentGet(ctx context.Context, q *structs.QueryOptions, id string) (*structs.Deployment, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.Deployment](ctx, e, "DeploymentGet", ReadArgs{Query: q, ID: id}); ok {
		return out, meta, err
	}
	var out *structs.Deployment
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		d, err := lookupDeployment(&s.Reader, ws, id)
		if err != nil {
			return 0, err
		}
		out = d
		return tableIndex(s, state.TableDeployments)
	})
	return out, meta, err
}

// DeploymentAllocations lists the allocations a deployment placed.
func (e *Endpoints) DeploymentAllocations(ctx context.Context, q *structs.QueryOptions, id string) ([]*structs.AllocListStub, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.AllocListStub](ctx, e, "DeploymentAllocations", ReadArgs{Query: q, ID: id}); ok {
		return out, meta, err
	}
	var out []*structs.AllocListStub
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		d, err := lookupDeployment(&s.Reader, ws, id)
		if err != nil {
			return 0, err
		}
		allocs, err := s.AllocsByJob(ws, d.Namespace, d.JobID, true)
		if err != nil {
			return 0, err
		}
		out = []*structs.AllocListStub{}
		for _, a := range allocs {
			if a.DeploymentID == d.ID {
				out = append(out, a.Stub())
			}
		}
		return tableIndex(s, state.TableDeployments, state.TableAllocs)
	})
	return out, meta, err
}

// JobDeployments lists a job's deployments, newest first.
func (e *Endpoints) JobDeployments(ctx context.Context, q *structs.QueryOptions, jobID string) ([]*structs.Deployment, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.Deployment](ctx, e, "JobDeployments", ReadArgs{Query: q, ID: jobID}); ok {
		return out, meta, err
	}
	var out []*structs.Deployment
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		var err error
		out, err = s.DeploymentsByJob(ws, namespaceOf(q), jobID)
		if err != nil {
			return 0, err
		}
		return tableIndex(s, state.TableDeployments)
	})
	return out, meta, err
}

// JobLatestDeployment returns a job's newest deployment, or nil.
func (e *Endpoints) JobLatestDeployment(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.Deployment, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.Deployment](ctx, e, "JobLatestDeployment", ReadArgs{Query: q, ID: jobID}); ok {
		return out, meta, err
	}
	var out *structs.Deployment
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		var err error
		out, err = s.LatestDeploymentByJob(ws, namespaceOf(q), jobID)
		if err != nil {
			return 0, err
		}
		return tableIndex(s, state.TableDeployments)
	})
	return out, meta, err
}

// DeploymentWriteArgs are the arguments of the deployment writes.
type DeploymentWriteArgs struct {
	DeploymentID string
	// Op is "promote", "fail", "pause", "resume" or "unblock".
	Op     string
	All    bool
	Groups []string
}

// DeploymentWrite promotes, fails, pauses, resumes or unblocks a
// deployment, on the leader.
func (e *Endpoints) DeploymentWrite(ctx context.Context, a *DeploymentWriteArgs) (*structs.DeploymentUpdateResponse, error) {
	var fwd structs.DeploymentUpdateResponse
	if ok, err := e.forward(ctx, "DeploymentWrite", false, a, &fwd); ok {
		if err != nil {
			return nil, err
		}
		return &fwd, nil
	}
	if a == nil || a.DeploymentID == "" {
		return nil, structs.BadRequest(errors.New("a deployment ID is required"))
	}
	s := e.d.State()
	d, err := lookupDeployment(&s.Reader, nil, a.DeploymentID)
	if err != nil {
		return nil, err
	}
	now := e.d.Now()
	var t fsm.MessageType
	var req any
	var eval *structs.Evaluation
	var revert *structs.Job
	switch a.Op {
	case "promote":
		r, err := deploy.PromoteRequest(&s.Reader, d, a.All, a.Groups, now)
		if err != nil {
			return nil, err
		}
		t, req, eval = fsm.DeploymentPromote, r, r.Eval
	case "fail":
		if !d.Active() {
			return nil, structs.BadRequest(fmt.Errorf("deployment %q is %s: only an active deployment can be failed", d.ID, d.Status))
		}
		r, err := deploy.FailRequest(&s.Reader, d, structs.DeploymentDescFailedByUser, now)
		if err != nil {
			return nil, err
		}
		t, req, eval, revert = fsm.DeploymentStatusUpdate, r, r.Eval, r.Job
	case "pause", "resume":
		r, err := deploy.PauseRequest(&s.Reader, d, a.Op == "pause", now)
		if err != nil {
			return nil, err
		}
		t, req, eval = fsm.DeploymentStatusUpdate, r, r.Eval
	case "unblock":
		r, err := deploy.UnblockRequest(d)
		if err != nil {
			return nil, err
		}
		t, req = fsm.DeploymentStatusUpdate, r
	default:
		return nil, structs.BadRequest(fmt.Errorf("unknown deployment operation %q", a.Op))
	}
	index, err := e.d.Apply(t, req)
	if err != nil {
		return nil, err
	}
	resp := &structs.DeploymentUpdateResponse{DeploymentModifyIndex: index, Index: index}
	if eval != nil {
		resp.EvalID, resp.EvalCreateIndex = eval.ID, index
	}
	if revert != nil {
		v := revert.Version
		resp.RevertedJobVersion = &v
	}
	return resp, nil
}

// lookupDeployment finds a deployment by ID or unique prefix.
func lookupDeployment(r *state.Reader, ws memdb.WatchSet, id string) (*structs.Deployment, error) {
	if id == "" {
		return nil, structs.BadRequest(errors.New("a deployment ID is required"))
	}
	d, err := r.DeploymentByID(ws, id)
	if err != nil || d != nil {
		return d, err
	}
	matches, err := r.DeploymentsByIDPrefix(ws, id)
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		return nil, structs.NotFound(fmt.Errorf("deployment %q not found", id))
	case 1:
		return matches[0], nil
	}
	ids := make([]string, 0, len(matches))
	for _, m := range matches {
		ids = append(ids, m.ID)
	}
	return nil, fmt.Errorf("%w: prefix %q matches deployments %s", structs.ErrAmbiguousID, id, strings.Join(ids, ", "))
}

func init() {
	rpcMethods["DeploymentList"] = read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.Deployment, structs.QueryMeta, error) {
		return e.DeploymentList(ctx, a.Query)
	})
	rpcMethods["DeploymentGet"] = read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.Deployment, structs.QueryMeta, error) {
		return e.DeploymentGet(ctx, a.Query, a.ID)
	})
	rpcMethods["DeploymentAllocations"] = read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.AllocListStub, structs.QueryMeta, error) {
		return e.DeploymentAllocations(ctx, a.Query, a.ID)
	})
	rpcMethods["JobDeployments"] = read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.Deployment, structs.QueryMeta, error) {
		return e.JobDeployments(ctx, a.Query, a.ID)
	})
	rpcMethods["JobLatestDeployment"] = read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.Deployment, structs.QueryMeta, error) {
		return e.JobLatestDeployment(ctx, a.Query, a.ID)
	})
	rpcMethods["DeploymentWrite"] = withArgs(func(ctx context.Context, e *Endpoints, a *DeploymentWriteArgs) (any, error) {
		return e.DeploymentWrite(ctx, a)
	})
}
