package state

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// UpsertNode registers a node or replaces it, keeping its CreateIndex.
// Every field is taken from node: the caller merges fields the servers own
// (drain, eligibility) before applying. evals commit in the same
// transaction.
func (s *StateStore) UpsertNode(index uint64, node *structs.Node, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		if node == nil {
			return fmt.Errorf("state: nil node")
		}
		if err := requireIDs("node", "ID", node.ID); err != nil {
			return err
		}
		n := node.Copy()
		existing, err := get[*structs.Node](w, TableNodes, n.ID)
		if err != nil {
			return err
		}
		n.CreateIndex = w.index
		if existing != nil {
			n.CreateIndex = existing.CreateIndex
		}
		n.ModifyIndex = w.index
		if err := w.insert(TableNodes, n); err != nil {
			return err
		}
		return w.upsertEvals(evals)
	})
}

// UpdateNodeStatus sets a node's status and when it changed (Unix
// nanoseconds, given by the caller: the state never reads the clock).
// evals, for example for the jobs of a node that went down, commit in the
// same transaction.
func (s *StateStore) UpdateNodeStatus(index uint64, nodeID, status string, updatedAt int64, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Node](w, TableNodes, nodeID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("node %q not found", nodeID))
		}
		n := existing.Copy()
		n.Status = status
		n.StatusUpdatedAt = updatedAt
		n.ModifyIndex = w.index
		if err := w.insert(TableNodes, n); err != nil {
			return err
		}
		return w.upsertEvals(evals)
	})
}
