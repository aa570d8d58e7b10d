package state

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/drover-project/drover/structs"
)

// UpsertJob registers a job or a new version of it. evals (usually the
// job's registration evaluation) commit in the same transaction, with their
// JobModifyIndex set to the job's.
//
// A new job starts at Version 0. Registering it again bumps Version and
// JobModifyIndex only if its specification changed; either way ModifyIndex
// moves. Status is computed here, never taken from the caller.
func (s *StateStore) UpsertJob(index uint64, job *structs.Job, evals ...*structs.Evaluation) error {
	return s.UpsertJobOwned(index, job.Copy(), copyEvals(evals)...)
}

// UpsertJobOwned is UpsertJob for a caller that hands job and evals over to
// the store: they are stored themselves (with their indexes and version set
// in place) instead of copies, so the caller must neither change nor read
// them afterwards. The FSM, which decoded them from a log entry just for
// this, saves the copies that way.
func (s *StateStore) UpsertJobOwned(index uint64, job *structs.Job, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		// As upsertJob, but with the evaluations written before the job
		// itself, so that the job goes in once, with its new status.
		if err := w.prepareJob(job); err != nil {
			return err
		}
		if err := w.recordJob(job); err != nil {
			return err
		}
		setJobModifyIndex(evals, job)
		if err := w.upsertOwnedEvals(evals); err != nil {
			return err
		}
		return w.insertJobWithStatus(job)
	})
}

// StopJob marks the job stopped, as a new version, without purging it; its
// allocations are stopped by the evaluation that comes with it.
func (s *StateStore) StopJob(index uint64, namespace, jobID string, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Job](w, TableJobs, namespace, jobID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("job %q not found in namespace %q", jobID, namespace))
		}
		stopped := existing.Copy()
		stopped.Stop = true
		stored, err := w.upsertJob(stopped)
		if err != nil {
			return err
		}
		evals = copyEvals(evals)
		setJobModifyIndex(evals, stored)
		return w.upsertOwnedEvals(evals)
	})
}

// DeleteJob purges a job and its summary. Its evaluations and allocations
// stay until garbage collection deletes them.
func (s *StateStore) DeleteJob(index uint64, namespace, jobID string, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Job](w, TableJobs, namespace, jobID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("job %q not found in namespace %q", jobID, namespace))
		}
		if err := w.delete(TableJobs, existing); err != nil {
			return err
		}
		if err := w.deleteVersions(namespace, jobID); err != nil {
			return err
		}
		summary, err := get[*structs.JobSummary](w, TableJobSummary, namespace, jobID)
		if err != nil {
			return err
		}
		if summary != nil {
			if err := w.delete(TableJobSummary, summary); err != nil {
				return err
			}
		}
		return w.upsertEvals(evals)
	})
}

// copyEvals returns copies of evals, for writes that change them.
func copyEvals(evals []*structs.Evaluation) []*structs.Evaluation {
	out := make([]*structs.Evaluation, len(evals))
	for i, e := range evals {
		out[i] = e.Copy()
	}
	return out
}

// setJobModifyIndex gives those of evals (which the writer owns) that are
// of job the job's JobModifyIndex, which only the state knows before the
// commit.
func setJobModifyIndex(evals []*structs.Evaluation, job *structs.Job) {
	for _, e := range evals {
		if e != nil && e.Namespace == job.Namespace && e.JobID == job.ID {
			e.JobModifyIndex = job.JobModifyIndex
		}
	}
}

// upsertJob stores j, which the writer owns (a copy, or what UpsertJobOwned
// was handed), with its indexes and version set, makes sure its summary
// has every group, and returns it. finish sets its status.
func (w *writer) upsertJob(j *structs.Job) (*structs.Job, error) {
	if err := w.prepareJob(j); err != nil {
		return nil, err
	}
	if err := w.insert(TableJobs, j); err != nil {
		return nil, err
	}
	return j, w.recordJob(j)
}

// prepareJob sets the indexes, version and (previous) status of j, which
// the writer owns, from the stored version of the job, if any.
func (w *writer) prepareJob(j *structs.Job) error {
	if j == nil {
		return fmt.Errorf("state: nil job")
	}
	if err := requireIDs("job", "ID", j.ID, "Namespace", j.Namespace); err != nil {
		return err
	}
	existing, err := get[*structs.Job](w, TableJobs, j.Namespace, j.ID)
	if err != nil {
		return err
	}
	j.ModifyIndex = w.index
	if existing == nil {
		j.CreateIndex = w.index
		j.JobModifyIndex = w.index
		j.Version = 0
		j.Status, j.StatusDescription = "", ""
		return nil
	}
	j.CreateIndex = existing.CreateIndex
	j.Status, j.StatusDescription = existing.Status, existing.StatusDescription
	changed, err := specChanged(existing, j)
	if err != nil {
		return err
	}
	if changed {
		j.Version = existing.Version + 1
		j.JobModifyIndex = w.index
	} else {
		j.Version = existing.Version
		j.JobModifyIndex = existing.JobModifyIndex
		j.SubmitTime = existing.SubmitTime
		j.Stable = existing.Stable
	}
	return nil
}

// recordJob keeps the prepared j as a version, makes sure its summary has
// every group, and marks its status for recomputation.
func (w *writer) recordJob(j *structs.Job) error {
	if err := w.recordVersion(j); err != nil {
		return err
	}
	if err := w.ensureSummary(j); err != nil {
		return err
	}
	w.touchJob(j.Namespace, j.ID, false)
	return nil
}

// insertJobWithStatus stores the prepared j in the jobs table with the
// status its evaluations and allocations give it now, as finish would set
// it: when nothing else of the job changes later in the transaction,
// finish then finds it right and the job is inserted once, not twice. The
// version recordJob kept stays as it was (with the previous status), so
// a job whose status changes is stored as a copy.
func (w *writer) insertJobWithStatus(j *structs.Job) error {
	status, err := w.jobStatus(j, false)
	if err != nil {
		return err
	}
	if status != j.Status {
		j = j.Copy()
		j.Status = status
		j.ModifyIndex = w.index
	}
	return w.insert(TableJobs, j)
}

// specChanged reports whether two versions of a job differ in what the user
// declared, ignoring what the server maintains. It compares JSON encodings,
// the form jobs travel in, so a value decoded from the log (a float64) and
// the same value given in Go (an int) count as equal.
func specChanged(a, b *structs.Job) (bool, error) {
	ea, err := json.Marshal(specOnly(a))
	if err != nil {
		return false, fmt.Errorf("state: encode job: %w", err)
	}
	eb, err := json.Marshal(specOnly(b))
	if err != nil {
		return false, fmt.Errorf("state: encode job: %w", err)
	}
	return !bytes.Equal(ea, eb), nil
}

func specOnly(j *structs.Job) *structs.Job {
	c := *j // shallow: only top-level fields are cleared
	c.Status, c.StatusDescription = "", ""
	c.Stable = false
	c.Version = 0
	c.SubmitTime = 0
	c.CreateIndex, c.ModifyIndex, c.JobModifyIndex = 0, 0, 0
	return &c
}
