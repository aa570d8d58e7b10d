package api

import (
	"net/http"
	"strconv"

	"github.com/drover-project/drover/structs"
)

// Versions lists the kept versions of a job, newest first; with diffs,
// also what changed from each version to the next.
func (j *Jobs) Versions(jobID string, diffs bool, q *QueryOptions) (*structs.JobVersionsResponse, *QueryMeta, error) {
	q = withParam(q, "diffs", strconv.FormatBool(diffs))
	var out structs.JobVersionsResponse
	meta, err := j.c.query("/v1/job/"+escape(jobID)+"/versions", q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// Revert submits an earlier version of the job again. enforcePrior, when
// not nil, reverts only if the current version is that one.
func (j *Jobs) Revert(jobID string, version uint64, enforcePrior *uint64) (*structs.JobRegisterResponse, error) {
	req := &structs.JobRevertRequest{JobID: jobID, JobVersion: version, EnforcePriorVersion: enforcePrior}
	var out structs.JobRegisterResponse
	index, err := j.c.write(http.MethodPut, "/v1/job/"+escape(jobID)+"/revert", j.c.params(nil), req, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}

// Scale sets the count of one group of a job; group may be empty for a job
// with a single group.
func (j *Jobs) Scale(jobID, group string, count int64, message string) (*structs.JobRegisterResponse, error) {
	req := &structs.ScalingRequest{Count: &count, Message: message,
		Target: map[string]string{structs.ScalingTargetJob: jobID}}
	if group != "" {
		req.Target[structs.ScalingTargetGroup] = group
	}
	var out structs.JobRegisterResponse
	index, err := j.c.write(http.MethodPost, "/v1/job/"+escape(jobID)+"/scale", j.c.params(nil), req, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}

// Stable marks a kept version of a job stable or not.
func (j *Jobs) Stable(jobID string, version uint64, stable bool) (*structs.JobStabilityResponse, error) {
	req := &structs.JobStabilityRequest{JobID: jobID, JobVersion: version, Stable: stable}
	var out structs.JobStabilityResponse
	index, err := j.c.write(http.MethodPut, "/v1/job/"+escape(jobID)+"/stable", j.c.params(nil), req, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}
