package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/drover-project/drover/structs"
)

// Jobs is the /v1/jobs and /v1/job/ part of the API.
type Jobs struct{ c *Client }

// Jobs returns the jobs endpoints.
func (c *Client) Jobs() *Jobs { return &Jobs{c} }

// Register creates or updates a job; the answer names the evaluation that
// schedules it.
func (j *Jobs) Register(job *structs.Job) (*structs.JobRegisterResponse, error) {
	var out structs.JobRegisterResponse
	index, err := j.c.write(http.MethodPut, "/v1/jobs", j.c.params(nil), &structs.JobRegisterRequest{Job: job}, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}

// List lists jobs; q.Prefix filters by ID prefix.
func (j *Jobs) List(q *QueryOptions) ([]*structs.JobListStub, *QueryMeta, error) {
	var out []*structs.JobListStub
	meta, err := j.c.query("/v1/jobs", q, &out)
	return out, meta, err
}

// Info reads one job.
func (j *Jobs) Info(jobID string, q *QueryOptions) (*structs.Job, *QueryMeta, error) {
	var out structs.Job
	meta, err := j.c.query("/v1/job/"+escape(jobID), q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// Deregister stops a job; purge also forgets it.
func (j *Jobs) Deregister(jobID string, purge bool) (*structs.JobDeregisterResponse, error) {
	params := j.c.params(nil)
	params.Set("purge", strconv.FormatBool(purge))
	var out structs.JobDeregisterResponse
	index, err := j.c.write(http.MethodDelete, "/v1/job/"+escape(jobID), params, nil, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}

// Allocations lists a job's allocations; all includes those of earlier
// jobs that had the same ID.
func (j *Jobs) Allocations(jobID string, all bool, q *QueryOptions) ([]*structs.AllocListStub, *QueryMeta, error) {
	q = withParam(q, "all", strconv.FormatBool(all))
	var out []*structs.AllocListStub
	meta, err := j.c.query("/v1/job/"+escape(jobID)+"/allocations", q, &out)
	return out, meta, err
}

// Evaluations lists a job's evaluations.
func (j *Jobs) Evaluations(jobID string, q *QueryOptions) ([]*structs.Evaluation, *QueryMeta, error) {
	var out []*structs.Evaluation
	meta, err := j.c.query("/v1/job/"+escape(jobID)+"/evaluations", q, &out)
	return out, meta, err
}

// Summary counts a job's allocations by group and status.
func (j *Jobs) Summary(jobID string, q *QueryOptions) (*structs.JobSummary, *QueryMeta, error) {
	var out structs.JobSummary
	meta, err := j.c.query("/v1/job/"+escape(jobID)+"/summary", q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// ParseHCL has the agent turn an HCL job file into a job.
func (j *Jobs) ParseHCL(src string, canonicalize bool) (*structs.Job, error) {
	return j.ParseHCLOpts(&structs.JobsParseRequest{JobHCL: src, Canonicalize: canonicalize})
}

// ParseHCLOpts is ParseHCL with every option, such as the content of a
// variables file in req.Variables.
func (j *Jobs) ParseHCLOpts(req *structs.JobsParseRequest) (*structs.Job, error) {
	var out structs.Job
	if _, err := j.c.write(http.MethodPost, "/v1/jobs/parse", url.Values{}, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// withParam returns a copy of q with one more query parameter.
func withParam(q *QueryOptions, key, value string) *QueryOptions {
	c := QueryOptions{}
	if q != nil {
		c = *q
	}
	params := make(map[string]string, len(c.Params)+1)
	for k, v := range c.Params {
		params[k] = v
	}
	params[key] = value
	c.Params = params
	return &c
}
