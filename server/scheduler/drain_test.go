package scheduler_test

import (
	"testing"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// markMigrate marks every live allocation to migrate, as the drainer does.
func markMigrate(h *st.Harness) {
	yes := true
	for _, a := range h.State.LiveAllocs() {
		c := a.Copy()
		c.DesiredTransition.Migrate = &yes
		h.State.UpsertAllocs(c)
	}
}

// An allocation migrating off a draining node is stopped even when no
// other node has room for its replacement: a drain empties the node.
func TestMigratingOffADrainingNodeStopsWithoutRoom(t *testing.T) {
	h, job := setup(t, st.Job("web", 2), st.Node("a"))
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 2 {
		t.Fatalf("%d allocations placed, want 2", n)
	}
	h.State.UpsertNode(nodeWith("a", func(n *structs.Node) {
		n.Drain = true
		n.SchedulingEligibility = structs.NodeSchedulingIneligible
	}))
	markMigrate(h)
	eval := process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 0 {
		t.Fatalf("%d allocations still live on the drained node, want 0", n)
	}
	if len(eval.FailedTGAllocs) == 0 {
		t.Error("the replacements' placement failure is not reported")
	}
}

// Elsewhere (alloc stop on a node that is not draining) a migration that
// cannot be placed leaves the allocation running.
func TestMigratingWithoutRoomKeepsRunningOffDrain(t *testing.T) {
	h, job := setup(t, st.Job("web", 2), st.Node("a"))
	process(t, h, job)
	markMigrate(h)
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 2 {
		t.Fatalf("%d allocations live, want 2 kept", n)
	}
}

// A system allocation on a draining node stays until the drainer marks
// it (system jobs drain last, or never with -ignore-system).
func TestSystemAllocOnDrainingNodeWaitsForMark(t *testing.T) {
	job := systemJob("sys", structs.JobTypeSystem)
	h, job := setup(t, job, st.Node("a"))
	process(t, h, job)
	h.State.UpsertNode(nodeWith("a", func(n *structs.Node) { n.Drain = true }))
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 1 {
		t.Fatalf("%d live, want the unmarked system allocation kept", n)
	}
	markMigrate(h)
	process(t, h, job)
	if n := len(h.State.LiveAllocs()); n != 0 {
		t.Fatalf("%d live, want the marked system allocation stopped", n)
	}
}
