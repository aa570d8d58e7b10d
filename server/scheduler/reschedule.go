package scheduler

import (
	"time"

	"github.com/drover-project/drover/structs"
)

// reschedulePolicy is the group's policy, or its job type's default for a
// group stored before it had one.
func reschedulePolicy(job *structs.Job, tg *structs.TaskGroup) *structs.ReschedulePolicy {
	if tg != nil && tg.ReschedulePolicy != nil {
		return tg.ReschedulePolicy
	}
	return structs.DefaultReschedulePolicy(job.Type)
}

// rescheduleEligible reports whether the failed allocation may be placed
// again: its policy is unlimited, or fewer than Attempts of the failures
// that led to it fell within Interval before now (all of them, with the
// zero time).
func rescheduleEligible(job *structs.Job, tg *structs.TaskGroup, a *structs.Allocation, h allocHistory, now time.Time) bool {
	p := reschedulePolicy(job, tg)
	if !p.Enabled() {
		return false
	}
	if p.Unlimited {
		return true
	}
	attempts := 0
	seen := map[string]bool{a.ID: true}
	for prev := h.byID[a.PreviousAllocation]; prev != nil && !seen[prev.ID]; prev = h.byID[prev.PreviousAllocation] {
		seen[prev.ID] = true
		if prev.ClientStatus != structs.AllocClientStatusFailed {
			break
		}
		if !now.IsZero() && p.Interval > 0 && prev.ModifyTime != 0 && now.Sub(time.Unix(0, prev.ModifyTime)) > p.Interval {
			break // older failures no longer count
		}
		attempts++
	}
	return attempts < p.Attempts
}

// rescheduleTime is when the failed allocation is due to be placed again:
// the time it failed plus its policy's delay for the attempts before it.
// An allocation without a recorded time is due at once.
func rescheduleTime(job *structs.Job, tg *structs.TaskGroup, a *structs.Allocation, h allocHistory) time.Time {
	if a.ModifyTime == 0 {
		return time.Time{}
	}
	p := reschedulePolicy(job, tg)
	if p == nil {
		return time.Time{}
	}
	return time.Unix(0, a.ModifyTime).Add(p.NextDelay(h.failedAttempts(a)))
}

// followupEval is the evaluation that comes back when the earliest delayed
// reschedule is due.
func (s *genericScheduler) followupEval(eval *structs.Evaluation, at time.Time) *structs.Evaluation {
	e := s.blockedEval(eval)
	e.Status = structs.EvalStatusPending
	e.TriggeredBy = structs.EvalTriggerRetryFailedAlloc
	e.StatusDescription = "created for delayed rescheduling"
	e.WaitUntil = at
	return e
}

// rescheduleTracker is the previous allocation's reschedule history with
// this reschedule added.
func rescheduleTracker(req placeRequest, now int64) *structs.RescheduleTracker {
	t := req.previous.RescheduleTracker.Copy()
	if t == nil {
		t = &structs.RescheduleTracker{}
	}
	t.Events = append(t.Events, &structs.RescheduleEvent{
		RescheduleTime: now,
		PrevAllocID:    req.previous.ID,
		PrevNodeID:     req.previous.NodeID,
		Delay:          req.rescheduleDelay,
	})
	return t
}

// rescheduleDelay is the policy's delay for the failed allocation.
func rescheduleDelay(job *structs.Job, tg *structs.TaskGroup, a *structs.Allocation, h allocHistory) time.Duration {
	p := reschedulePolicy(job, tg)
	if p == nil {
		return 0
	}
	return p.NextDelay(h.failedAttempts(a))
}
