package state

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// UpsertEvals inserts or replaces evaluations. Queued counts they report go
// to their jobs' summaries.
func (s *StateStore) UpsertEvals(index uint64, evals []*structs.Evaluation) error {
	return s.write(index, func(w *writer) error { return w.upsertEvals(evals) })
}

// UpsertEvalsOwned is UpsertEvals for a caller that hands evals over to the
// store (see UpsertJobOwned): they are stored themselves, not copies, so
// the caller must neither change nor read them afterwards.
func (s *StateStore) UpsertEvalsOwned(index uint64, evals []*structs.Evaluation) error {
	return s.write(index, func(w *writer) error { return w.upsertOwnedEvals(evals) })
}

// DeleteEvals garbage-collects evaluations and allocations. IDs that are
// not stored are skipped. A job left with neither becomes dead.
func (s *StateStore) DeleteEvals(index uint64, evalIDs, allocIDs []string) error {
	return s.write(index, func(w *writer) error {
		for _, id := range evalIDs {
			e, err := get[*structs.Evaluation](w, TableEvals, id)
			if err != nil {
				return err
			}
			if e == nil {
				continue
			}
			if err := w.delete(TableEvals, e); err != nil {
				return err
			}
			w.touchJob(e.Namespace, e.JobID, true)
		}
		for _, id := range allocIDs {
			a, err := get[*structs.Allocation](w, TableAllocs, id)
			if err != nil {
				return err
			}
			if a == nil {
				continue
			}
			if err := w.delete(TableAllocs, a); err != nil {
				return err
			}
			w.touchJob(a.Namespace, a.JobID, true)
		}
		return nil
	})
}

// upsertEvals inserts or replaces copies of evaluations; the job summary
// takes the queued counts an evaluation reports.
func (w *writer) upsertEvals(evals []*structs.Evaluation) error {
	return w.upsertOwnedEvals(copyEvals(evals))
}

// upsertOwnedEvals is upsertEvals of evaluations the writer owns: it stores
// them themselves, with their indexes set.
func (w *writer) upsertOwnedEvals(evals []*structs.Evaluation) error {
	for _, c := range evals {
		if c == nil {
			return fmt.Errorf("state: nil evaluation")
		}
		if err := requireIDs("evaluation", "ID", c.ID, "Namespace", c.Namespace, "JobID", c.JobID); err != nil {
			return err
		}
		existing, err := get[*structs.Evaluation](w, TableEvals, c.ID)
		if err != nil {
			return err
		}
		c.CreateIndex = w.index
		if existing != nil {
			c.CreateIndex = existing.CreateIndex
		}
		c.ModifyIndex = w.index
		if err := w.insert(TableEvals, c); err != nil {
			return err
		}
		if err := w.setQueued(c); err != nil {
			return err
		}
		w.touchJob(c.Namespace, c.JobID, false)
	}
	return nil
}
