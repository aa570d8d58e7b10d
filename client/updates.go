package client

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/drover-project/drover/structs"
)

// allocUpdateInterval is the least time between two reports to the
// servers: changes in between are coalesced, keeping each allocation's
// latest state. It limits load, it is not behaviour, so it runs on real time.
const allocUpdateInterval = 200 * time.Millisecond

// updateBatcher sends allocation status changes to the servers in batches.
// A failed send is retried; a newer state of the same allocation replaces
// an older one, so the last state is never lost and never overtaken. A
// change of an allocation's client status (pending → running, → failed) is
// sent at once rather than waiting out the interval: it is what users and
// the scheduler wait for, while task events in between can be coalesced.
type updateBatcher struct {
	send   func(ctx context.Context, allocs []*structs.Allocation) error
	logger *slog.Logger

	mu      sync.Mutex
	pending map[string]*structs.Allocation
	// queued is the client status last queued per allocation.
	queued map[string]string
	wake   chan struct{}
	urgent chan struct{}
}

func newUpdateBatcher(send func(context.Context, []*structs.Allocation) error, logger *slog.Logger) *updateBatcher {
	return &updateBatcher{
		send:    send,
		logger:  logger,
		pending: map[string]*structs.Allocation{},
		queued:  map[string]string{},
		wake:    make(chan struct{}, 1),
		urgent:  make(chan struct{}, 1),
	}
}

// add queues an allocation's latest state.
func (b *updateBatcher) add(a *structs.Allocation) {
	b.mu.Lock()
	b.pending[a.ID] = a
	changed := b.queued[a.ID] != a.ClientStatus
	b.queued[a.ID] = a.ClientStatus
	b.mu.Unlock()
	b.wakeUp()
	if changed {
		select {
		case b.urgent <- struct{}{}:
		default:
		}
	}
}

// forget drops what is kept of an allocation the servers no longer list.
func (b *updateBatcher) forget(allocID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.queued, allocID)
}

// take empties the queue.
func (b *updateBatcher) take() []*structs.Allocation {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*structs.Allocation, 0, len(b.pending))
	for _, a := range b.pending {
		out = append(out, a)
	}
	clear(b.pending)
	return out
}

// putBack requeues a batch that failed to send, except where a newer state
// arrived meanwhile.
func (b *updateBatcher) putBack(batch []*structs.Allocation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range batch {
		if _, newer := b.pending[a.ID]; !newer {
			b.pending[a.ID] = a
		}
	}
}

// run sends batches until ctx ends, then makes a last attempt to deliver
// what is still queued.
func (b *updateBatcher) run(ctx context.Context) {
	retry := newBackoff(minRetry, maxRetry)
	for {
		select {
		case <-b.wake:
		case <-ctx.Done():
			b.flush()
			return
		}
		delay := allocUpdateInterval
		if batch := b.take(); len(batch) > 0 {
			if err := b.send(ctx, batch); err != nil {
				b.putBack(batch)
				delay = retry.next()
				b.logger.Warn("failed to report allocation status", "error", err, "retry_in", delay)
				b.wakeUp()
			} else {
				retry.reset()
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-b.urgent:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			b.flush()
			return
		}
	}
}

func (b *updateBatcher) wakeUp() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// flush tries once, briefly, to send what is queued when the client stops.
func (b *updateBatcher) flush() {
	batch := b.take()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := b.send(ctx, batch); err != nil {
		b.logger.Warn("could not report allocation status before stopping", "error", err)
	}
}
