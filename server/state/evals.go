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

// upsertEvals inserts or replaces evaluations; the job summary takes the
// queued counts an evaluation reports.
func (w *writer) upsertEvals(evals []*structs.Evaluation) error {
	for _, e := range evals {
		if e == nil {
			return fmt.Errorf("state: nil evaluation")
		}
		if err := requireIDs("evaluation", "ID", e.ID, "Namespace", e.Namespace, "JobID", e.JobID); err != nil {
			return err
		}
		c := e.Copy()
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
