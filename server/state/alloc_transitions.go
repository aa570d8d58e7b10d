package state

import (
	"fmt"
	"maps"
	"slices"

	"github.com/drover-project/drover/structs"
)

// UpdateAllocsDesiredTransitions records what the servers want done with
// allocations (alloc stop marks one to migrate), with the evaluations that
// act on it, in one transaction. Allocations already collected are
// skipped; they are visited in ID order so a replay does the same.
func (s *StateStore) UpdateAllocsDesiredTransitions(index uint64, transitions map[string]*structs.DesiredTransition, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		for _, id := range slices.Sorted(maps.Keys(transitions)) {
			t := transitions[id]
			if t == nil {
				return fmt.Errorf("state: nil desired transition for allocation %q", id)
			}
			existing, err := get[*structs.Allocation](w, TableAllocs, id)
			if err != nil {
				return err
			}
			if existing == nil {
				continue
			}
			a := existing.Copy() // shares the stored job, which never changes
			merged := a.DesiredTransition.Copy()
			if t.Migrate != nil {
				merged.Migrate = t.Migrate
			}
			if t.Reschedule != nil {
				merged.Reschedule = t.Reschedule
			}
			if t.ForceReschedule != nil {
				merged.ForceReschedule = t.ForceReschedule
			}
			if t.NoShutdownDelay != nil {
				merged.NoShutdownDelay = t.NoShutdownDelay
			}
			a.DesiredTransition = merged.Copy()
			a.ModifyIndex = w.index
			a.AllocModifyIndex = w.index
			if err := w.putAlloc(existing, a); err != nil {
				return err
			}
		}
		return w.upsertEvals(evals)
	})
}
