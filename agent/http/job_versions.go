package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/drover-project/drover/structs"
)

// JobVersioner is the part of the Server that keeps job versions, reverts
// and scales jobs. It is optional: a Server without it answers these
// routes with an error.
type JobVersioner interface {
	JobVersions(ctx context.Context, q *structs.QueryOptions, jobID string, diffs bool) (*structs.JobVersionsResponse, structs.QueryMeta, error)
	JobRevert(ctx context.Context, namespace string, req *structs.JobRevertRequest) (*structs.JobRegisterResponse, error)
	JobScale(ctx context.Context, namespace, jobID string, req *structs.ScalingRequest) (*structs.JobRegisterResponse, error)
	JobStability(ctx context.Context, namespace string, req *structs.JobStabilityRequest) (*structs.JobStabilityResponse, error)
}

var errNoVersions = errors.New("this server does not keep job versions")

// registerJobVersions adds the versions, revert and scale routes.
func (a *api) registerJobVersions(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/job/{id}/versions", a.read(a.jobVersions))
	mux.HandleFunc("PUT /v1/job/{id}/revert", a.write(a.jobRevert))
	mux.HandleFunc("POST /v1/job/{id}/revert", a.write(a.jobRevert))
	mux.HandleFunc("PUT /v1/job/{id}/scale", a.write(a.jobScale))
	mux.HandleFunc("POST /v1/job/{id}/scale", a.write(a.jobScale))
	mux.HandleFunc("PUT /v1/job/{id}/stable", a.write(a.jobStable))
	mux.HandleFunc("POST /v1/job/{id}/stable", a.write(a.jobStable))
}

// jobStable answers /v1/job/{id}/stable with a JobStabilityRequest body.
func (a *api) jobStable(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	v, err := a.versioner()
	if err != nil {
		return nil, 0, err
	}
	var req structs.JobStabilityRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	if err := matchPathJobID(r, &req.JobID); err != nil {
		return nil, 0, err
	}
	resp, err := v.JobStability(r.Context(), q.Namespace, &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}

// matchPathJobID fills a body's JobID from the URL, or refuses a body that
// names another job.
func matchPathJobID(r *http.Request, jobID *string) error {
	if *jobID == "" {
		*jobID = r.PathValue("id")
	}
	if *jobID != r.PathValue("id") {
		return badRequest("JobID does not match: the URL names %q, the body %q", r.PathValue("id"), *jobID)
	}
	return nil
}

func (a *api) versioner() (JobVersioner, error) {
	v, ok := a.Server.(JobVersioner)
	if !ok {
		return nil, errNoVersions
	}
	return v, nil
}

// jobVersions answers GET /v1/job/{id}/versions; ?diffs=true adds the
// differences between consecutive versions.
func (a *api) jobVersions(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	v, err := a.versioner()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	diffs, err := boolParam(r, "diffs")
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return v.JobVersions(r.Context(), q, r.PathValue("id"), diffs)
}

// jobRevert answers /v1/job/{id}/revert with a JobRevertRequest body.
func (a *api) jobRevert(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	v, err := a.versioner()
	if err != nil {
		return nil, 0, err
	}
	var req structs.JobRevertRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	if err := matchPathJobID(r, &req.JobID); err != nil {
		return nil, 0, err
	}
	resp, err := v.JobRevert(r.Context(), q.Namespace, &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}

// jobScale answers /v1/job/{id}/scale with a ScalingRequest body.
func (a *api) jobScale(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	v, err := a.versioner()
	if err != nil {
		return nil, 0, err
	}
	var req structs.ScalingRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	resp, err := v.JobScale(r.Context(), q.Namespace, r.PathValue("id"), &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}
