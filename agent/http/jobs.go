package http

import (
	"net/http"

	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

// jobList answers GET /v1/jobs.
func (a *api) jobList(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	jobs, meta, err := a.Server.JobList(r.Context(), q)
	return orEmpty(jobs), meta, err
}

// jobRegister answers PUT and POST on /v1/jobs and /v1/job/{id}. On the
// latter, the body's job must carry that ID.
func (a *api) jobRegister(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	var req structs.JobRegisterRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	if req.Job == nil {
		return nil, 0, badRequest("Job must be specified")
	}
	if id := r.PathValue("id"); id != "" && req.Job.ID != id {
		return nil, 0, badRequest("Job ID does not match name: the URL names %q, the body %q", id, req.Job.ID)
	}
	// A job that names no namespace or region goes where the request says.
	if req.Job.Namespace == "" && query(r).Has("namespace") {
		req.Job.Namespace = q.Namespace
	}
	if req.Job.Region == "" {
		req.Job.Region = q.Region
	}
	resp, err := a.Server.JobRegister(r.Context(), &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}

// jobGet answers GET /v1/job/{id}.
func (a *api) jobGet(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	return a.Server.JobGet(r.Context(), q, r.PathValue("id"))
}

// jobDeregister answers DELETE /v1/job/{id}; ?purge=true also forgets the job.
func (a *api) jobDeregister(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	purge, err := boolParam(r, "purge")
	if err != nil {
		return nil, 0, err
	}
	resp, err := a.Server.JobDeregister(r.Context(), q.Namespace, r.PathValue("id"), purge)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}

// jobAllocations answers GET /v1/job/{id}/allocations; ?all=true includes
// allocations of earlier jobs that had the same ID.
func (a *api) jobAllocations(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	all, err := boolParam(r, "all")
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	allocs, meta, err := a.Server.JobAllocations(r.Context(), q, r.PathValue("id"), all)
	return orEmpty(allocs), meta, err
}

// jobEvaluations answers GET /v1/job/{id}/evaluations.
func (a *api) jobEvaluations(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	evals, meta, err := a.Server.JobEvaluations(r.Context(), q, r.PathValue("id"))
	return orEmpty(evals), meta, err
}

// jobSummary answers GET /v1/job/{id}/summary.
func (a *api) jobSummary(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	return a.Server.JobSummary(r.Context(), q, r.PathValue("id"))
}

// jobsParse answers PUT and POST /v1/jobs/parse: HCL in, the job as JSON out.
// It reads no cluster state, so it sends no query meta.
func (a *api) jobsParse(w http.ResponseWriter, r *http.Request) {
	var req structs.JobsParseRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.JobHCL == "" {
		writeError(w, badRequest("JobHCL must be specified"))
		return
	}
	if req.HCLv1 {
		writeError(w, badRequest("HCLv1 job files are not supported: drover reads HCL2 only"))
		return
	}
	job, err := a.ParseJob([]byte(req.JobHCL), req.Variables)
	if err != nil {
		// A job file that does not parse is the caller's mistake.
		writeError(w, structs.BadRequest(err))
		return
	}
	if req.Canonicalize {
		job.Canonicalize()
	}
	writeJSON(w, r, job)
}

// parseWithJobspec is the default Config.ParseJob.
func parseWithJobspec(src []byte, variables string) (*structs.Job, error) {
	return jobspec.Parse("input.hcl", src, &jobspec.ParseOptions{VarContent: variables})
}
