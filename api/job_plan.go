package api

import (
	"net/http"

	"github.com/drover-project/drover/structs"
)

// Plan dry-runs a job: what registering it would do, and with diff, how it
// differs from the running version.
func (j *Jobs) Plan(job *structs.Job, diff bool) (*structs.JobPlanResponse, error) {
	var out structs.JobPlanResponse
	req := &structs.JobPlanRequest{Job: job, Diff: diff}
	if _, err := j.c.write(http.MethodPut, "/v1/job/"+escape(job.ID)+"/plan", j.c.params(nil), req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegisterWithIndex registers a job only if its modify index is still
// modifyIndex (0: only if the job does not exist), as `job run
// -check-index` does.
func (j *Jobs) RegisterWithIndex(job *structs.Job, modifyIndex uint64) (*structs.JobRegisterResponse, error) {
	var out structs.JobRegisterResponse
	req := &structs.JobRegisterRequest{Job: job, EnforceIndex: true, JobModifyIndex: modifyIndex}
	index, err := j.c.write(http.MethodPut, "/v1/jobs", j.c.params(nil), req, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}
