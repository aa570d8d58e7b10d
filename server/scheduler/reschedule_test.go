package scheduler_test

import (
	"testing"
	"time"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// TestDelayedReschedule: a failed service allocation waits out its delay:
// the evaluation before it is due creates a follow-up evaluation for that
// time instead of placing, and one at that time places the replacement on
// another node.
func TestDelayedReschedule(t *testing.T) {
	job := st.Job("web", 1)
	job.TaskGroups[0].ReschedulePolicy = &structs.ReschedulePolicy{Delay: 30 * time.Second, DelayFunction: "constant", Unlimited: true}
	h, job := setup(t, job, st.Node("n1"), st.Node("n2"))
	process(t, h, job)
	failed := h.State.LiveAllocs()[0].Copy()
	failed.ClientStatus = structs.AllocClientStatusFailed
	failed.ModifyTime = h.Now.UnixNano()
	h.State.UpsertAllocs(failed)

	h.Now = h.Now.Add(10 * time.Second)
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 0 {
		t.Fatalf("%d live allocations before the delay passed, want 0", n)
	}
	created := h.CreatedEvals()
	if len(created) != 1 {
		t.Fatalf("%d evaluations created, want one follow-up", len(created))
	}
	next := created[0]
	if want := time.Unix(0, failed.ModifyTime).Add(30 * time.Second); !next.WaitUntil.Equal(want) ||
		next.Status != structs.EvalStatusPending || next.TriggeredBy != structs.EvalTriggerRetryFailedAlloc {
		t.Errorf("follow-up = %+v, want pending at %s", next, want)
	}

	h.Now = next.WaitUntil
	if err := h.Process(next); err != nil {
		t.Fatal(err)
	}
	live := h.State.LiveAllocs()
	if len(live) != 1 || live[0].PreviousAllocation != failed.ID || live[0].NodeID == failed.NodeID {
		t.Fatalf("after the delay: %+v, want a replacement of %s on the other node", live, failed.ID)
	}
	tr := live[0].RescheduleTracker
	if tr == nil || len(tr.Events) != 1 || tr.Events[0].PrevAllocID != failed.ID || tr.Events[0].Delay != 30*time.Second {
		t.Errorf("reschedule tracker = %+v", tr)
	}
}

// TestRescheduleAttemptsWithinInterval: a policy of 2 attempts in an hour
// stops rescheduling after two failures in a row within the hour.
func TestRescheduleAttemptsWithinInterval(t *testing.T) {
	job := st.Job("web", 1)
	job.TaskGroups[0].ReschedulePolicy = &structs.ReschedulePolicy{Attempts: 2, Interval: time.Hour, DelayFunction: "constant"}
	h, job := setup(t, job, st.Node("n1"), st.Node("n2"))
	process(t, h, job)
	for round := 0; round < 3; round++ {
		live := h.State.LiveAllocs()
		if round < 3 && len(live) != 1 {
			t.Fatalf("round %d: %d live allocations, want 1", round, len(live))
		}
		a := live[0].Copy()
		a.ClientStatus = structs.AllocClientStatusFailed
		a.ModifyTime = h.Now.UnixNano()
		h.State.UpsertAllocs(a)
		h.Now = h.Now.Add(time.Minute)
		process(t, h, job)
		if want := map[int]int{0: 1, 1: 1, 2: 0}[round]; len(h.State.LiveAllocs()) != want {
			t.Fatalf("after failure %d: %d live allocations, want %d", round+1, len(h.State.LiveAllocs()), want)
		}
	}
}
