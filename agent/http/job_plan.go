package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/drover-project/drover/structs"
)

// JobPlanner is the part of the Server that dry-runs jobs. It is optional:
// a Server without it answers the plan route with an error.
type JobPlanner interface {
	JobPlan(ctx context.Context, req *structs.JobPlanRequest) (*structs.JobPlanResponse, error)
}

var errNoPlanner = errors.New("this server cannot plan jobs")

// registerJobPlan adds PUT and POST /v1/job/{id}/plan.
func (a *api) registerJobPlan(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/job/{id}/plan", a.write(a.jobPlan))
	mux.HandleFunc("POST /v1/job/{id}/plan", a.write(a.jobPlan))
}

// jobPlan answers /v1/job/{id}/plan: what registering the body's job would
// do. The body's job must carry the URL's ID.
func (a *api) jobPlan(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	planner, ok := a.Server.(JobPlanner)
	if !ok {
		return nil, 0, errNoPlanner
	}
	var req structs.JobPlanRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	if req.Job == nil {
		return nil, 0, badRequest("Job must be specified")
	}
	if id := r.PathValue("id"); req.Job.ID != id {
		return nil, 0, badRequest("Job ID does not match: the URL names %q, the body %q", id, req.Job.ID)
	}
	if req.Job.Namespace == "" && r.URL.Query().Has("namespace") {
		req.Job.Namespace = q.Namespace
	}
	if req.Job.Region == "" {
		req.Job.Region = q.Region
	}
	resp, err := planner.JobPlan(r.Context(), &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.JobModifyIndex, nil
}
