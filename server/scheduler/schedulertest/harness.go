package schedulertest

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/drover-project/drover/server/scheduler"
	"github.com/drover-project/drover/structs"
)

// Harness is a recording scheduler.Planner over an in-memory State. Plans
// are committed to State as the plan applier would (stops always, and the
// placements of every node Reject does not name), so a test can run the
// scheduler again on the result.
type Harness struct {
	State *State
	// Now is the clock handed to the scheduler.
	Now time.Time
	// Reject, when set, is shown each plan before it is committed and
	// names the nodes whose placements are refused, as when a concurrent
	// plan took the room first. It may change State to make that true.
	Reject func(plan *structs.Plan) []string

	mu      sync.Mutex
	plans   []*structs.Plan
	results []*structs.PlanResult
	updated []*structs.Evaluation
	created []*structs.Evaluation
	evals   int
}

// NewHarness returns a harness over an empty state.
func NewHarness() *Harness {
	return &Harness{State: NewState(), Now: time.Unix(1_700_000_000, 0)}
}

// Scheduler returns a scheduler planning against the harness.
func (h *Harness) Scheduler() scheduler.Scheduler {
	return scheduler.New(slog.New(slog.DiscardHandler), h.State, h, func() time.Time { return h.Now })
}

// Process runs a fresh scheduler on eval.
func (h *Harness) Process(eval *structs.Evaluation) error {
	return h.Scheduler().Process(eval)
}

// NewEval returns a pending evaluation of job. IDs are numbered, so a test
// that makes its evaluations in the same order always seeds the
// scheduler's random choices the same way.
func (h *Harness) NewEval(job *structs.Job, trigger string) *structs.Evaluation {
	h.mu.Lock()
	h.evals++
	n := h.evals
	h.mu.Unlock()
	return &structs.Evaluation{
		ID:             fmt.Sprintf("00000000-0000-0000-0000-%012d", n),
		Namespace:      job.Namespace,
		Priority:       job.Priority,
		Type:           job.Type,
		TriggeredBy:    trigger,
		JobID:          job.ID,
		JobModifyIndex: job.JobModifyIndex,
		Status:         structs.EvalStatusPending,
		ModifyIndex:    h.State.Index(),
	}
}

// SubmitPlan implements scheduler.Planner.
func (h *Harness) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	h.mu.Lock()
	reject := h.Reject
	h.plans = append(h.plans, plan)
	h.mu.Unlock()

	var refused []string
	if reject != nil {
		refused = reject(plan)
	}
	result := &structs.PlanResult{NodeUpdate: plan.NodeUpdate, NodeAllocation: map[string][]*structs.Allocation{}}
	for nodeID, allocs := range plan.NodeAllocation {
		if !slices.Contains(refused, nodeID) {
			result.NodeAllocation[nodeID] = allocs
		}
	}
	h.State.commitDeployments(plan)
	result.AllocIndex = h.State.commit(result)

	h.mu.Lock()
	h.results = append(h.results, result)
	h.mu.Unlock()
	if len(refused) > 0 {
		result.RefreshIndex = result.AllocIndex
		return result, h.State, nil
	}
	return result, nil, nil
}

// commit writes a plan result and returns its index: stopped allocations
// take the status the plan gives them, placed ones are stored, and a
// replaced allocation learns its successor.
func (s *State) commit(r *structs.PlanResult) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	for _, stops := range r.NodeUpdate {
		for _, st := range stops {
			a := s.allocs[st.ID]
			if a == nil {
				continue
			}
			a = a.Copy()
			a.DesiredStatus = st.DesiredStatus
			a.DesiredDescription = st.DesiredDescription
			if st.PreemptedByAllocation != "" {
				a.PreemptedByAllocation = st.PreemptedByAllocation
			}
			if st.ClientStatus == structs.AllocClientStatusLost {
				a.ClientStatus = st.ClientStatus
			}
			s.putAlloc(a)
		}
	}
	for _, placed := range r.NodeAllocation {
		for _, a := range placed {
			s.putAlloc(a.Copy())
			if prev := s.allocs[a.PreviousAllocation]; prev != nil {
				prev = prev.Copy()
				prev.NextAllocation = a.ID
				s.putAlloc(prev)
			}
		}
	}
	return s.index
}

// UpdateEval implements scheduler.Planner.
func (h *Harness) UpdateEval(eval *structs.Evaluation) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.updated = append(h.updated, eval.Copy())
	return nil
}

// CreateEval implements scheduler.Planner.
func (h *Harness) CreateEval(eval *structs.Evaluation) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.created = append(h.created, eval.Copy())
	return nil
}

// Plans returns the plans submitted so far.
func (h *Harness) Plans() []*structs.Plan {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.plans)
}

// Results returns what was committed of each plan.
func (h *Harness) Results() []*structs.PlanResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.results)
}

// UpdatedEvals returns the evaluations passed to UpdateEval.
func (h *Harness) UpdatedEvals() []*structs.Evaluation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.updated)
}

// CreatedEvals returns the evaluations passed to CreateEval.
func (h *Harness) CreatedEvals() []*structs.Evaluation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.created)
}

// LastEval returns the last evaluation passed to UpdateEval, or nil.
func (h *Harness) LastEval() *structs.Evaluation {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.updated) == 0 {
		return nil
	}
	return h.updated[len(h.updated)-1]
}
