package state

import (
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/structs"
)

// StateRestore fills an empty store from a snapshot in one transaction.
// Objects go in as given (copied), indexes included: nothing is recomputed.
type StateRestore struct {
	txn *memdb.Txn
}

// Restore starts a restore. Finish it with Commit, or Abort on error. It is
// meant for a fresh store that nobody reads yet.
func (s *StateStore) Restore() *StateRestore {
	return &StateRestore{txn: s.db.Txn(true)}
}

// Commit makes everything restored visible at once.
func (r *StateRestore) Commit() { r.txn.Commit() }

// Abort drops everything restored.
func (r *StateRestore) Abort() { r.txn.Abort() }

func (r *StateRestore) insert(table string, obj any) error {
	if err := r.txn.Insert(table, obj); err != nil {
		return fmt.Errorf("state: restore %s: %w", table, err)
	}
	return nil
}

// JobRestore restores a job.
func (r *StateRestore) JobRestore(job *structs.Job) error {
	return r.insert(TableJobs, job.Copy())
}

// JobSummaryRestore restores a job summary.
func (r *StateRestore) JobSummaryRestore(summary *structs.JobSummary) error {
	return r.insert(TableJobSummary, summary.Copy())
}

// EvalRestore restores an evaluation.
func (r *StateRestore) EvalRestore(eval *structs.Evaluation) error {
	return r.insert(TableEvals, eval.Copy())
}

// AllocRestore restores an allocation.
func (r *StateRestore) AllocRestore(alloc *structs.Allocation) error {
	return r.insert(TableAllocs, jobCopies{}.copyAlloc(alloc))
}

// NodeRestore restores a node.
func (r *StateRestore) NodeRestore(node *structs.Node) error {
	return r.insert(TableNodes, node.Copy())
}

// IndexRestore restores the raft index of the last write to table.
func (r *StateRestore) IndexRestore(table string, index uint64) error {
	return r.insert(TableIndex, &IndexEntry{Table: table, Index: index})
}
