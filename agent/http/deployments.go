package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/drover-project/drover/server/endpoints"
	"github.com/drover-project/drover/structs"
)

// Deployer is the part of the Server that keeps deployments.
type Deployer interface {
	DeploymentList(ctx context.Context, q *structs.QueryOptions) ([]*structs.Deployment, structs.QueryMeta, error)
	DeploymentGet(ctx context.Context, q *structs.QueryOptions, id string) (*structs.Deployment, structs.QueryMeta, error)
	DeploymentAllocations(ctx context.Context, q *structs.QueryOptions, id string) ([]*structs.AllocListStub, structs.QueryMeta, error)
	JobDeployments(ctx context.Context, q *structs.QueryOptions, jobID string) ([]*structs.Deployment, structs.QueryMeta, error)
	JobLatestDeployment(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.Deployment, structs.QueryMeta, error)
	DeploymentWrite(ctx context.Context, a *endpoints.DeploymentWriteArgs) (*structs.DeploymentUpdateResponse, error)
}

var errNoDeployments = errors.New("this server does not keep deployments")

// registerDeployments adds the /v1/deployment routes, as Nomad's.
func (a *api) registerDeployments(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/deployments", a.read(a.deploymentList))
	mux.HandleFunc("GET /v1/deployment/{id}", a.read(a.deploymentGet))
	mux.HandleFunc("GET /v1/deployment/allocations/{id}", a.read(a.deploymentAllocations))
	mux.HandleFunc("GET /v1/job/{id}/deployments", a.read(a.jobDeployments))
	mux.HandleFunc("GET /v1/job/{id}/deployment", a.read(a.jobLatestDeployment))
	for _, op := range []string{"promote", "fail", "pause", "unblock"} {
		mux.HandleFunc("PUT /v1/deployment/"+op+"/{id}", a.write(a.deploymentWrite(op)))
		mux.HandleFunc("POST /v1/deployment/"+op+"/{id}", a.write(a.deploymentWrite(op)))
	}
}

func (a *api) deployer() (Deployer, error) {
	d, ok := a.Server.(Deployer)
	if !ok {
		return nil, errNoDeployments
	}
	return d, nil
}

func (a *api) deploymentList(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	d, err := a.deployer()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return d.DeploymentList(r.Context(), q)
}

func (a *api) deploymentGet(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	d, err := a.deployer()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return d.DeploymentGet(r.Context(), q, r.PathValue("id"))
}

func (a *api) deploymentAllocations(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	d, err := a.deployer()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return d.DeploymentAllocations(r.Context(), q, r.PathValue("id"))
}

func (a *api) jobDeployments(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	d, err := a.deployer()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return d.JobDeployments(r.Context(), q, r.PathValue("id"))
}

func (a *api) jobLatestDeployment(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	d, err := a.deployer()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return d.JobLatestDeployment(r.Context(), q, r.PathValue("id"))
}

// deploymentWriteBody is the body of the write routes: promote reads All
// and Groups, pause reads Pause (false resumes).
type deploymentWriteBody struct {
	DeploymentID string
	All          bool
	Groups       []string
	Pause        bool
}

func (a *api) deploymentWrite(op string) writeFunc {
	return func(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
		d, err := a.deployer()
		if err != nil {
			return nil, 0, err
		}
		var body deploymentWriteBody
		if r.ContentLength != 0 {
			if err := decodeBody(r, &body); err != nil {
				return nil, 0, err
			}
		}
		id := r.PathValue("id")
		if body.DeploymentID != "" && body.DeploymentID != id {
			return nil, 0, badRequest("DeploymentID does not match: the URL names %q, the body %q", id, body.DeploymentID)
		}
		args := &endpoints.DeploymentWriteArgs{DeploymentID: id, Op: op, All: body.All, Groups: body.Groups}
		if op == "pause" && !body.Pause {
			args.Op = "resume"
		}
		if op == "promote" && !body.All && len(body.Groups) == 0 {
			args.All = true // as `deployment promote` without -group
		}
		resp, err := d.DeploymentWrite(r.Context(), args)
		if err != nil {
			return nil, 0, err
		}
		return resp, resp.Index, nil
	}
}
