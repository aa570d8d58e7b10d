package state

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/go-memdb"
)

// ErrAbandoned is returned by BlockingQuery when the store was abandoned
// without a replacement to continue on.
var ErrAbandoned = errors.New("state store abandoned")

// QueryFunc reads from store, adding what it read to ws, and returns the
// index of the data it read.
type QueryFunc func(ws memdb.WatchSet, store *StateStore) (index uint64, err error)

// BlockingQuery runs run until the index it returns is past minIndex, then
// returns nil. When minIndex is 0 it runs once. Between runs it sleeps on
// the watch set run filled, so it wakes exactly when something it read
// changes, or when the store is replaced by a restore (it then goes on with
// the replacement).
//
// When timeout (if positive) passes first, it returns nil: the last run's
// answer stands, as in Nomad's blocking queries. When ctx ends first it
// returns ctx's error. Callers add their own jitter to timeout; the state
// store draws no random numbers.
func (s *StateStore) BlockingQuery(ctx context.Context, minIndex uint64, timeout time.Duration, run QueryFunc) error {
	wait := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	store := s.current()
	for {
		ws := memdb.NewWatchSet()
		ws.Add(store.AbandonCh())
		index, err := run(ws, store)
		if err != nil {
			return err
		}
		if minIndex == 0 || index > minIndex {
			return nil
		}
		if err := ws.WatchCtx(wait); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return nil // timed out
		}
		next := store.current()
		if next == store && store.abandoned() {
			return ErrAbandoned
		}
		store = next
	}
}

func (s *StateStore) abandoned() bool {
	select {
	case <-s.abandonCh:
		return true
	default:
		return false
	}
}
