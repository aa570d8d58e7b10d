package evalbroker

import (
	"sync"

	"github.com/drover-project/drover/structs"
)

// Blocked holds evaluations that could not place everything for lack of
// capacity. When capacity may have appeared (a node registered or became
// ready, an allocation stopped) they go back to the broker, so a job that
// did not fit is placed without any action from the user.
type Blocked struct {
	broker *Broker

	mu      sync.Mutex
	enabled bool
	// byJob keeps the newest blocked evaluation of each job: an older one
	// asks for nothing the newer one does not.
	byJob map[jobKey]*structs.Evaluation
	// generation counts the Unblock calls: capacity changes.
	generation uint64
}

// NewBlocked returns a disabled tracker feeding broker.
func NewBlocked(broker *Broker) *Blocked {
	return &Blocked{broker: broker, byJob: map[jobKey]*structs.Evaluation{}}
}

// SetEnabled follows leadership, as the broker does.
func (b *Blocked) SetEnabled(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enabled = on
	if !on {
		b.byJob = map[jobKey]*structs.Evaluation{}
	}
}

// Generation counts the capacity changes seen so far. A scheduler reads it
// before taking the snapshot it plans on, and hands it to BlockSince.
func (b *Blocked) Generation() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.generation
}

// Block records a blocked evaluation.
func (b *Blocked) Block(e *structs.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.block(e)
}

// BlockSince records a blocked evaluation planned on a snapshot taken
// after capacity generation gen. When capacity changed since (a node
// joined while the evaluation was being planned or written), the change
// may be missing from that snapshot and its Unblock has already passed,
// so the evaluation goes back to the broker at once instead of waiting
// for another change that may never come.
func (b *Blocked) BlockSince(e *structs.Evaluation, gen uint64) {
	b.mu.Lock()
	if !b.enabled {
		b.mu.Unlock()
		return
	}
	if b.generation == gen {
		b.block(e)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	b.broker.Enqueue(e.Copy())
}

func (b *Blocked) block(e *structs.Evaluation) {
	if !b.enabled {
		return
	}
	key := jobKey{e.Namespace, e.JobID}
	if old, ok := b.byJob[key]; ok && old.CreateIndex > e.CreateIndex {
		return
	}
	b.byJob[key] = e.Copy()
}

// Untrack forgets the blocked evaluation of a job, e.g. when it is purged.
func (b *Blocked) Untrack(namespace, jobID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byJob, jobKey{namespace, jobID})
}

// Unblock sends every blocked evaluation back to the broker.
func (b *Blocked) Unblock() {
	b.mu.Lock()
	b.generation++
	evals := make([]*structs.Evaluation, 0, len(b.byJob))
	for _, e := range b.byJob {
		evals = append(evals, e)
	}
	b.byJob = map[jobKey]*structs.Evaluation{}
	b.mu.Unlock()
	if len(evals) > 0 {
		b.broker.Enqueue(evals...)
	}
}

// Len is the number of blocked evaluations.
func (b *Blocked) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byJob)
}
