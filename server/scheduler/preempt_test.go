package scheduler_test

import (
	"testing"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// fullNode returns a node and a low-priority job whose one allocation
// fills it.
func fullNode(h *st.Harness, priority int) (*structs.Node, *structs.Job, *structs.Allocation) {
	n := st.Node("n1")
	h.State.UpsertNode(n)
	low := st.Job("low", 1)
	low.Priority = priority
	low.TaskGroups[0].Tasks[0].Resources = &structs.Resources{CPU: 3800, MemoryMB: 8000}
	low = h.State.UpsertJob(low)
	a := st.Alloc(low, 0, n)
	h.State.UpsertAllocs(a)
	return n, low, a
}

func highJob(typ string, priority int) *structs.Job {
	j := st.Job("high", 1)
	j.Type = typ
	j.Priority = priority
	j.Canonicalize()
	return j
}

func TestPreemption(t *testing.T) {
	cases := []struct {
		name      string
		typ       string
		priority  int
		config    *structs.SchedulerConfiguration
		wantEvict bool
	}{
		{"service off by default", structs.JobTypeService, 80, nil, false},
		{"service when enabled", structs.JobTypeService, 80,
			&structs.SchedulerConfiguration{SchedulerAlgorithm: "binpack", PreemptionConfig: structs.PreemptionConfig{ServiceSchedulerEnabled: true}}, true},
		{"priority gap under 10", structs.JobTypeService, 59,
			&structs.SchedulerConfiguration{SchedulerAlgorithm: "binpack", PreemptionConfig: structs.PreemptionConfig{ServiceSchedulerEnabled: true}}, false},
		{"system on by default", structs.JobTypeSystem, 80, nil, true},
		{"batch when enabled", structs.JobTypeBatch, 80,
			&structs.SchedulerConfiguration{SchedulerAlgorithm: "binpack", PreemptionConfig: structs.PreemptionConfig{BatchSchedulerEnabled: true}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := st.NewHarness()
			_, low, victim := fullNode(h, 50)
			if c.config != nil {
				h.State.SetSchedulerConfig(c.config)
			}
			job := h.State.UpsertJob(highJob(c.typ, c.priority))
			eval := process(t, h, job)

			evicted := h.State.Alloc(victim.ID)
			if !c.wantEvict {
				if evicted.DesiredStatus != structs.AllocDesiredStatusRun || len(eval.FailedTGAllocs) == 0 {
					t.Fatalf("victim %s, failures %v: want no preemption and a placement failure", evicted.DesiredStatus, eval.FailedTGAllocs)
				}
				return
			}
			live := h.State.LiveAllocs()
			if len(live) != 1 || live[0].JobID != "high" {
				t.Fatalf("live allocations = %v, want only high's", live)
			}
			placed := live[0]
			if evicted.DesiredStatus != structs.AllocDesiredStatusEvict || evicted.PreemptedByAllocation != placed.ID {
				t.Errorf("victim = %s by %q, want evict by %s", evicted.DesiredStatus, evicted.PreemptedByAllocation, placed.ID)
			}
			if len(placed.PreemptedAllocations) != 1 || placed.PreemptedAllocations[0] != victim.ID {
				t.Errorf("PreemptedAllocations = %v", placed.PreemptedAllocations)
			}
			created := h.CreatedEvals()
			if len(created) != 1 || created[0].JobID != low.ID || created[0].TriggeredBy != structs.EvalTriggerPreemption {
				t.Errorf("created evals = %+v, want one for the preempted job", created)
			}
		})
	}
}

// TestPreemptionPicksLowestPriority: of two candidates, the lower-priority
// allocation is evicted, and only as many as needed.
func TestPreemptionPicksLowestPriority(t *testing.T) {
	h := st.NewHarness()
	n := st.Node("n1")
	h.State.UpsertNode(n)
	var victims []*structs.Allocation
	for _, p := range []int{30, 20} {
		j := st.Job("low"+string(rune('a'+p/10)), 1)
		j.Priority = p
		j.TaskGroups[0].Tasks[0].Resources = &structs.Resources{CPU: 1900, MemoryMB: 4000}
		j = h.State.UpsertJob(j)
		a := st.Alloc(j, 0, n)
		h.State.UpsertAllocs(a)
		victims = append(victims, a)
	}
	h.State.SetSchedulerConfig(&structs.SchedulerConfiguration{SchedulerAlgorithm: "binpack",
		PreemptionConfig: structs.PreemptionConfig{ServiceSchedulerEnabled: true}})
	job := h.State.UpsertJob(highJob(structs.JobTypeService, 90))
	process(t, h, job)
	if got := h.State.Alloc(victims[1].ID).DesiredStatus; got != structs.AllocDesiredStatusEvict {
		t.Errorf("priority-20 allocation is %s, want evicted", got)
	}
	if got := h.State.Alloc(victims[0].ID).DesiredStatus; got != structs.AllocDesiredStatusRun {
		t.Errorf("priority-30 allocation is %s, want left running", got)
	}
}
