package state

import (
	"fmt"
	"maps"
	"time"

	"github.com/drover-project/drover/structs"
)

// UpdateNodeDrain starts, changes or ends a node's drain. A drain makes the
// node ineligible; ending one leaves it ineligible (Nomad's behaviour)
// unless markEligible. status is what LastDrain records
// (structs.DrainStatus*); updatedAt comes from the caller, since the state
// never reads the clock. evals commit in the same transaction.
func (s *StateStore) UpdateNodeDrain(index uint64, nodeID string, drain *structs.DrainStrategy, markEligible bool, status string, updatedAt time.Time, meta map[string]string, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Node](w, TableNodes, nodeID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("node %q not found", nodeID))
		}
		n := existing.Copy()
		n.DrainStrategy = drain.Copy()
		n.Drain = drain != nil
		switch {
		case drain != nil:
			n.SchedulingEligibility = structs.NodeSchedulingIneligible
		case markEligible:
			n.SchedulingEligibility = structs.NodeSchedulingEligible
		}
		if status != "" {
			last := &structs.DrainMetadata{StartedAt: updatedAt, UpdatedAt: updatedAt, Status: status, Meta: maps.Clone(meta)}
			if existing.LastDrain != nil && existing.LastDrain.Status == structs.DrainStatusDraining {
				last.StartedAt = existing.LastDrain.StartedAt
				if meta == nil {
					last.Meta = maps.Clone(existing.LastDrain.Meta)
				}
			}
			n.LastDrain = last
		}
		n.ModifyIndex = w.index
		if err := w.insert(TableNodes, n); err != nil {
			return err
		}
		return w.upsertEvals(evals)
	})
}

// UpdateNodeEligibility sets whether new allocations may be placed on a
// node. A draining node cannot be made eligible: end the drain instead.
func (s *StateStore) UpdateNodeEligibility(index uint64, nodeID, eligibility string, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Node](w, TableNodes, nodeID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("node %q not found", nodeID))
		}
		if existing.DrainStrategy != nil && eligibility == structs.NodeSchedulingEligible {
			return structs.BadRequest(fmt.Errorf("node %q is draining: it cannot be made eligible", nodeID))
		}
		n := existing.Copy()
		n.SchedulingEligibility = eligibility
		n.ModifyIndex = w.index
		if err := w.insert(TableNodes, n); err != nil {
			return err
		}
		return w.upsertEvals(evals)
	})
}

// DeleteNode removes a node (garbage collection of a node long down). Its
// allocations are left to the evaluation garbage collection.
func (s *StateStore) DeleteNode(index uint64, nodeID string) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Node](w, TableNodes, nodeID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("node %q not found", nodeID))
		}
		return w.delete(TableNodes, existing)
	})
}
