// Package evalbroker is the leader's queue of evaluations. Delivery is
// at-least-once: a dequeued evaluation must be acked, and one that is
// nacked or not acked in time is delivered again, so schedulers must be
// idempotent. Evaluations of one job are handed out one at a time, because
// two schedulers planning the same job at once would fight over it.
package evalbroker

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/structs"
)

// Errors returned to workers.
var (
	ErrNotEnabled     = errors.New("eval broker is not enabled (not the leader)")
	ErrTokenInvalid   = errors.New("evaluation token does not match")
	ErrNotOutstanding = errors.New("evaluation is not outstanding")
)

// Config tunes redelivery.
type Config struct {
	// NackTimeout is how long a worker may hold an evaluation without acking.
	NackTimeout time.Duration
	// DeliveryLimit is how many times an evaluation is delivered before it
	// is given up on and handed to OnFailed.
	DeliveryLimit int
	// OnFailed receives evaluations that reached the delivery limit.
	OnFailed func(*structs.Evaluation)
}

// Broker is safe for concurrent use.
type Broker struct {
	cfg Config

	mu      sync.Mutex
	enabled bool
	// known holds every evaluation ID in the broker in any stage, so that
	// enqueuing the same evaluation twice is harmless.
	known map[string]struct{}
	ready evalHeap
	// inflight holds, per job, the evaluation that is ready or being
	// processed; later ones wait in pending.
	inflight map[jobKey]string
	pending  map[jobKey][]*structs.Evaluation
	unack    map[string]*outstanding
	// deliveries counts how often each evaluation was handed out.
	deliveries map[string]int
	// wake is closed and replaced whenever something becomes ready.
	wake chan struct{}
	// delayed holds the timers of evaluations waiting for their WaitUntil.
	delayed map[string]*time.Timer
}

type jobKey struct{ namespace, id string }

type outstanding struct {
	eval  *structs.Evaluation
	token string
	timer *time.Timer
}

// New returns a disabled broker.
func New(cfg Config) *Broker {
	if cfg.NackTimeout == 0 {
		cfg.NackTimeout = 60 * time.Second
	}
	if cfg.DeliveryLimit == 0 {
		cfg.DeliveryLimit = 3
	}
	b := &Broker{cfg: cfg, wake: make(chan struct{})}
	b.reset()
	return b
}

func (b *Broker) reset() {
	for _, o := range b.unack {
		o.timer.Stop()
	}
	for _, t := range b.delayed {
		t.Stop()
	}
	b.delayed = map[string]*time.Timer{}
	b.known = map[string]struct{}{}
	b.ready = nil
	b.inflight = map[jobKey]string{}
	b.pending = map[jobKey][]*structs.Evaluation{}
	b.unack = map[string]*outstanding{}
	b.deliveries = map[string]int{}
}

// SetEnabled turns the broker on when this server becomes leader and off
// (dropping everything) when it stops being leader; the next leader
// rebuilds the queue from the state store.
func (b *Broker) SetEnabled(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enabled = on
	if !on {
		b.reset()
	}
	b.notifyLocked()
}

// Enabled reports whether the broker is on.
func (b *Broker) Enabled() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.enabled
}

// Enqueue adds evaluations. Ones already known are ignored.
func (b *Broker) Enqueue(evals ...*structs.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled {
		return
	}
	for _, e := range evals {
		if _, ok := b.known[e.ID]; ok {
			continue
		}
		b.known[e.ID] = struct{}{}
		if wait := time.Until(e.WaitUntil); !e.WaitUntil.IsZero() && wait > 0 {
			b.delayLocked(e.Copy(), wait)
			continue
		}
		b.enqueueLocked(e.Copy())
	}
}

// delayLocked enqueues the evaluation once its WaitUntil has come, unless
// the broker was reset (leadership lost) meanwhile.
func (b *Broker) delayLocked(e *structs.Evaluation, wait time.Duration) {
	b.delayed[e.ID] = time.AfterFunc(wait, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.delayed[e.ID]; !ok || !b.enabled {
			return
		}
		delete(b.delayed, e.ID)
		b.enqueueLocked(e)
	})
}

func (b *Broker) enqueueLocked(e *structs.Evaluation) {
	key := jobKey{e.Namespace, e.JobID}
	if id, busy := b.inflight[key]; busy && id != e.ID {
		b.pending[key] = append(b.pending[key], e)
		return
	}
	b.inflight[key] = e.ID
	heap.Push(&b.ready, e)
	b.notifyLocked()
}

func (b *Broker) notifyLocked() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// Dequeue waits for an evaluation and returns it with the token that acks it.
func (b *Broker) Dequeue(ctx context.Context) (*structs.Evaluation, string, error) {
	for {
		b.mu.Lock()
		if !b.enabled {
			wake := b.wake
			b.mu.Unlock()
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return nil, "", ctx.Err()
			}
		}
		if b.ready.Len() > 0 {
			e := heap.Pop(&b.ready).(*structs.Evaluation)
			token := uuid.NewString()
			o := &outstanding{eval: e, token: token}
			o.timer = time.AfterFunc(b.cfg.NackTimeout, func() { b.Nack(e.ID, token) })
			b.unack[e.ID] = o
			b.deliveries[e.ID]++
			b.mu.Unlock()
			return e.Copy(), token, nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
}

// Ack marks an evaluation done and releases the next one of its job.
func (b *Broker) Ack(evalID, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, err := b.takeLocked(evalID, token)
	if err != nil {
		return err
	}
	b.finishLocked(o.eval)
	return nil
}

// Nack gives an evaluation back for redelivery, or to OnFailed once it
// reached the delivery limit.
func (b *Broker) Nack(evalID, token string) error {
	b.mu.Lock()
	o, err := b.takeLocked(evalID, token)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if b.deliveries[evalID] >= b.cfg.DeliveryLimit {
		b.finishLocked(o.eval)
		b.mu.Unlock()
		if b.cfg.OnFailed != nil {
			b.cfg.OnFailed(o.eval)
		}
		return nil
	}
	heap.Push(&b.ready, o.eval)
	b.notifyLocked()
	b.mu.Unlock()
	return nil
}

func (b *Broker) takeLocked(evalID, token string) (*outstanding, error) {
	o, ok := b.unack[evalID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotOutstanding, evalID)
	}
	if o.token != token {
		return nil, fmt.Errorf("%w: %s", ErrTokenInvalid, evalID)
	}
	o.timer.Stop()
	delete(b.unack, evalID)
	return o, nil
}

// finishLocked forgets an evaluation and promotes its job's next one.
func (b *Broker) finishLocked(e *structs.Evaluation) {
	delete(b.known, e.ID)
	delete(b.deliveries, e.ID)
	key := jobKey{e.Namespace, e.JobID}
	delete(b.inflight, key)
	if next := b.pending[key]; len(next) > 0 {
		b.pending[key] = next[1:]
		if len(b.pending[key]) == 0 {
			delete(b.pending, key)
		}
		b.enqueueLocked(next[0])
	}
}

// Stats counts evaluations by stage.
type Stats struct {
	Ready, Unacked, Pending int
}

// Stats reports the queue's size.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{Ready: b.ready.Len(), Unacked: len(b.unack)}
	for _, p := range b.pending {
		s.Pending += len(p)
	}
	return s
}

// evalHeap orders by priority (high first), then by age (old first).
type evalHeap []*structs.Evaluation

func (h evalHeap) Len() int { return len(h) }
func (h evalHeap) Less(i, j int) bool {
	if h[i].Priority != h[j].Priority {
		return h[i].Priority > h[j].Priority
	}
	return h[i].CreateIndex < h[j].CreateIndex
}
func (h evalHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evalHeap) Push(x any)   { *h = append(*h, x.(*structs.Evaluation)) }
func (h *evalHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
