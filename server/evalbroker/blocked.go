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

// Block records a blocked evaluation.
func (b *Blocked) Block(e *structs.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
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
