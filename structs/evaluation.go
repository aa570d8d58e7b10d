package structs

import (
	"maps"
	"time"
)

// Evaluation statuses.
const (
	EvalStatusPending  = "pending"
	EvalStatusComplete = "complete"
	EvalStatusFailed   = "failed"
	EvalStatusBlocked  = "blocked"
	EvalStatusCanceled = "canceled"
)

// What triggered an evaluation.
const (
	EvalTriggerJobRegister      = "job-register"
	EvalTriggerJobDeregister    = "job-deregister"
	EvalTriggerNodeUpdate       = "node-update"
	EvalTriggerRetryFailedAlloc = "alloc-failure"
	EvalTriggerQueuedAllocs     = "queued-allocs"
	// EvalTriggerAllocStop: `alloc stop` asked to replace an allocation.
	EvalTriggerAllocStop = "alloc-stop"
)

// Evaluation is a request to reconcile one job's allocations with its
// declared state. Every scheduling decision starts from one.
type Evaluation struct {
	ID                string
	Namespace         string
	Priority          int
	Type              string
	TriggeredBy       string
	JobID             string
	JobModifyIndex    uint64
	NodeID            string `json:",omitempty"`
	Status            string
	StatusDescription string
	Wait              time.Duration `json:",omitempty"`
	NextEval          string        `json:",omitempty"`
	PreviousEval      string        `json:",omitempty"`
	BlockedEval       string        `json:",omitempty"`
	// FailedTGAllocs explains, per group, why some allocations could not be placed.
	FailedTGAllocs    map[string]*AllocMetric
	QueuedAllocations map[string]int
	// WaitUntil holds a pending evaluation back until then, as a delayed
	// reschedule's follow-up evaluation is.
	WaitUntil time.Time
	// AnnotatePlan asks the scheduler to say what its plan would do per
	// group (see PlanAnnotations); set by `job plan`'s dry runs.
	AnnotatePlan bool `json:",omitempty"`

	CreateIndex uint64
	ModifyIndex uint64
	CreateTime  int64
	ModifyTime  int64
}

// Terminal reports whether the evaluation is finished.
func (e *Evaluation) Terminal() bool {
	switch e.Status {
	case EvalStatusComplete, EvalStatusFailed, EvalStatusCanceled:
		return true
	}
	return false
}

// Copy returns a deep copy.
func (e *Evaluation) Copy() *Evaluation {
	if e == nil {
		return nil
	}
	c := *e
	if e.FailedTGAllocs != nil {
		c.FailedTGAllocs = make(map[string]*AllocMetric, len(e.FailedTGAllocs))
		for k, v := range e.FailedTGAllocs {
			c.FailedTGAllocs[k] = v.Copy()
		}
	}
	c.QueuedAllocations = maps.Clone(e.QueuedAllocations)
	return &c
}
