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
	return s.write(index, func(w *writer) error {
		stored, err := w.upsertJob(job)
		if err != nil {
			return err
		}
		return w.upsertEvals(withJobModifyIndex(evals, stored))
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
		return w.upsertEvals(withJobModifyIndex(evals, stored))
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

// withJobModifyIndex returns copies of evals in which those of job carry the
// job's JobModifyIndex, which only the state knows before the commit.
func withJobModifyIndex(evals []*structs.Evaluation, job *structs.Job) []*structs.Evaluation {
	out := make([]*structs.Evaluation, len(evals))
	for i, e := range evals {
		c := e.Copy()
		if c != nil && c.Namespace == job.Namespace && c.JobID == job.ID {
			c.JobModifyIndex = job.JobModifyIndex
		}
		out[i] = c
	}
	return out
}

// upsertJob stores a copy of job with its indexes and version set, makes
// sure its summary has every group, and returns what it stored.
func (w *writer) upsertJob(job *structs.Job) (*structs.Job, error) {
	if job == nil {
		return nil, fmt.Errorf("state: nil job")
	}
	if err := requireIDs("job", "ID", job.ID, "Namespace", job.Namespace); err != nil {
		return nil, err
	}
	j := job.Copy()
	existing, err := get[*structs.Job](w, TableJobs, j.Namespace, j.ID)
	if err != nil {
		return nil, err
	}
	j.ModifyIndex = w.index
	if existing == nil {
		j.CreateIndex = w.index
		j.JobModifyIndex = w.index
		j.Version = 0
		j.Status, j.StatusDescription = "", ""
	} else {
		j.CreateIndex = existing.CreateIndex
		j.Status, j.StatusDescription = existing.Status, existing.StatusDescription
		changed, err := specChanged(existing, j)
		if err != nil {
			return nil, err
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
	}
	if err := w.insert(TableJobs, j); err != nil {
		return nil, err
	}
	if err := w.recordVersion(j); err != nil {
		return nil, err
	}
	if err := w.ensureSummary(j); err != nil {
		return nil, err
	}
	w.touchJob(j.Namespace, j.ID, false)
	return j, nil
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
