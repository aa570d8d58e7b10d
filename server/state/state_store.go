// Package state is the cluster state of one region: jobs, their summaries,
// evaluations, allocations and nodes, in go-memdb tables.
//
// Only the FSM writes, one raft entry at a time, and every write takes the
// entry's raft index. Nothing here reads the clock, draws random numbers or
// makes IDs: the same log applied anywhere gives the same state.
//
// Objects are stored as fresh copies made on write and never changed after;
// readers get copies again, so nobody outside can reach what is stored.
// Reads take a memdb.WatchSet (nil is fine) that a blocking query waits on.
package state

import (
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-memdb"
)

// StateStore is the live state. Its read methods come from Reader.
type StateStore struct {
	Reader

	abandonCh   chan struct{}
	abandonOnce sync.Once
	// replacement is the store that took over when this one was abandoned.
	replacement atomic.Pointer[StateStore]
}

// StateSnapshot is a point-in-time, read-only view of a StateStore.
type StateSnapshot struct {
	Reader
}

// NewStateStore returns an empty store.
func NewStateStore() (*StateStore, error) {
	db, err := newDB()
	if err != nil {
		return nil, err
	}
	return &StateStore{Reader: Reader{db: db}, abandonCh: make(chan struct{})}, nil
}

// Snapshot returns a view that later writes do not change. It is cheap: the
// tables are immutable radix trees shared with the store.
func (s *StateStore) Snapshot() (*StateSnapshot, error) {
	return &StateSnapshot{Reader: Reader{db: s.db.Snapshot()}}, nil
}

// AbandonCh is closed when the store is replaced by a restore, so blocking
// queries wake up and move to the new store.
func (s *StateStore) AbandonCh() <-chan struct{} { return s.abandonCh }

// Abandon marks the store as replaced by next (which may be nil) and closes
// AbandonCh. The FSM calls it after a restore has installed next.
func (s *StateStore) Abandon(next *StateStore) {
	s.abandonOnce.Do(func() {
		if next != nil {
			s.replacement.Store(next)
		}
		close(s.abandonCh)
	})
}

// current follows replacements to the store that is live now.
func (s *StateStore) current() *StateStore {
	for {
		next := s.replacement.Load()
		if next == nil {
			return s
		}
		s = next
	}
}

// Reader holds the read methods shared by the live store and its snapshots.
type Reader struct {
	db *memdb.MemDB
}

// readTxn opens a read-only transaction; reading never needs an abort, but
// callers still abort so the pattern is the same as for writes.
func (r *Reader) readTxn() *memdb.Txn { return r.db.Txn(false) }
