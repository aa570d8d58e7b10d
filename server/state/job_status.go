package state

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// setJobStatus recomputes a job's status and stores it if it changed. gc
// says that evaluations or allocations of the job were just deleted.
func (w *writer) setJobStatus(k jobKey, gc bool) error {
	job, err := get[*structs.Job](w, TableJobs, k.namespace, k.id)
	if err != nil || job == nil {
		return err
	}
	status, err := w.jobStatus(job, gc)
	if err != nil {
		return err
	}
	if status == job.Status {
		return nil
	}
	c := job.Copy()
	c.Status = status
	c.ModifyIndex = w.index
	return w.insert(TableJobs, c)
}

// jobStatus follows Nomad's rules:
//   - a system job is running until stopped, then dead;
//   - a job with an allocation that is not terminal is running;
//   - otherwise, one with an evaluation that is not terminal is pending;
//   - otherwise it is dead if it ever had allocations or evaluations (or
//     they were garbage collected), and pending if it never had any: it was
//     just registered and its first evaluation has not been written yet.
func (w *writer) jobStatus(job *structs.Job, gc bool) (string, error) {
	if job.Type == structs.JobTypeSystem {
		if job.Stop {
			return structs.JobStatusDead, nil
		}
		return structs.JobStatusRunning, nil
	}

	allocs, err := w.txn.Get(TableAllocs, indexJob, job.Namespace, job.ID)
	if err != nil {
		return "", fmt.Errorf("state: allocations of job %q: %w", job.ID, err)
	}
	hasAlloc := false
	for raw := allocs.Next(); raw != nil; raw = allocs.Next() {
		hasAlloc = true
		if !raw.(*structs.Allocation).Terminal() {
			return structs.JobStatusRunning, nil
		}
	}

	evals, err := w.txn.Get(TableEvals, indexJob, job.Namespace, job.ID)
	if err != nil {
		return "", fmt.Errorf("state: evaluations of job %q: %w", job.ID, err)
	}
	hasEval := false
	for raw := evals.Next(); raw != nil; raw = evals.Next() {
		hasEval = true
		if !raw.(*structs.Evaluation).Terminal() {
			return structs.JobStatusPending, nil
		}
	}

	if gc || hasEval || hasAlloc {
		return structs.JobStatusDead, nil
	}
	return structs.JobStatusPending, nil
}
