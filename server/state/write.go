package state

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/go-memdb"
)

// writer is one write transaction at one raft index. It remembers the
// tables and jobs it touched, so that finish bumps the index table and
// recomputes each job's status once, after every change is in.
type writer struct {
	txn   *memdb.Txn
	index uint64
	// tables written, for the index table.
	tables map[string]bool
	// jobs whose status may have changed; true when evaluations or
	// allocations of the job were deleted (garbage collected).
	jobs map[jobKey]bool
	// copies of incoming jobs, shared by the allocations written with them.
	jobCopies jobCopies
}

type jobKey struct{ namespace, id string }

// write runs fn in one transaction at index and commits only if it and the
// bookkeeping succeed: a failed apply leaves the state as it was.
func (s *StateStore) write(index uint64, fn func(w *writer) error) error {
	txn := s.db.Txn(true)
	defer txn.Abort() // does nothing once committed
	w := &writer{
		txn:       txn,
		index:     index,
		tables:    map[string]bool{},
		jobs:      map[jobKey]bool{},
		jobCopies: jobCopies{},
	}
	if err := fn(w); err != nil {
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	txn.Commit()
	return nil
}

// touchJob marks the job's status for recomputation.
func (w *writer) touchJob(namespace, id string, gc bool) {
	k := jobKey{namespace, id}
	w.jobs[k] = w.jobs[k] || gc
}

func (w *writer) insert(table string, obj any) error {
	if err := w.txn.Insert(table, obj); err != nil {
		return fmt.Errorf("state: insert into %s: %w", table, err)
	}
	w.tables[table] = true
	return nil
}

func (w *writer) delete(table string, obj any) error {
	if err := w.txn.Delete(table, obj); err != nil {
		return fmt.Errorf("state: delete from %s: %w", table, err)
	}
	w.tables[table] = true
	return nil
}

// requireIDs fails when one of the named identifiers is empty: every
// table is keyed by them, and the endpoints fill them in before applying.
func requireIDs(what string, ids ...string) error {
	for i := 0; i+1 < len(ids); i += 2 {
		if ids[i+1] == "" {
			return fmt.Errorf("state: %s without %s", what, ids[i])
		}
	}
	return nil
}

// get returns the stored object (not a copy: writers copy before changing).
func get[T any](w *writer, table string, args ...any) (T, error) {
	var zero T
	raw, err := w.txn.First(table, indexID, args...)
	if err != nil {
		return zero, fmt.Errorf("state: %s lookup: %w", table, err)
	}
	if raw == nil {
		return zero, nil
	}
	return raw.(T), nil
}

// finish recomputes the statuses of touched jobs, then records the index of
// every table written. Both happen in sorted order so that a replay does
// exactly the same thing.
func (w *writer) finish() error {
	// Instances of allocations that ended or nodes that went down (services.go).
	if err := w.pruneServiceRegistrations(); err != nil {
		return err
	}
	keys := slices.SortedFunc(maps.Keys(w.jobs), func(a, b jobKey) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.id, b.id))
	})
	for _, k := range keys {
		if err := w.setJobStatus(k, w.jobs[k]); err != nil {
			return err
		}
	}
	for _, table := range slices.Sorted(maps.Keys(w.tables)) {
		if err := w.txn.Insert(TableIndex, &IndexEntry{Table: table, Index: w.index}); err != nil {
			return fmt.Errorf("state: index of %s: %w", table, err)
		}
	}
	return nil
}
