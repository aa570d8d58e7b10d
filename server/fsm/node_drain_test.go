package fsm

import (
	"errors"
	"testing"
	"time"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// A drain makes the node ineligible; ending it keeps it so unless asked;
// eligibility cannot be restored while it drains.
func TestApplyNodeDrainAndEligibility(t *testing.T) {
	f := New(nil)
	applyOK(t, f, 1, NodeRegister, &NodeRegisterRequest{Node: statetest.Node("n1")})
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	drain := &structs.DrainStrategy{DrainSpec: structs.DrainSpec{Deadline: time.Minute}, StartedAt: at, ForceDeadline: at.Add(time.Minute)}
	applyOK(t, f, 2, NodeUpdateDrain, &NodeUpdateDrainRequest{NodeID: "n1", DrainStrategy: drain, Status: structs.DrainStatusDraining, UpdatedAt: at})
	n, err := f.State().NodeByID(nil, "n1")
	must(t, err)
	if !n.Drain || n.DrainStrategy == nil || !n.DrainStrategy.ForceDeadline.Equal(at.Add(time.Minute)) || n.SchedulingEligibility != structs.NodeSchedulingIneligible {
		t.Fatalf("node after drain = drain %v %+v, %s", n.Drain, n.DrainStrategy, n.SchedulingEligibility)
	}
	err = applyErr(t, f, 3, NodeUpdateEligibility, &NodeUpdateEligibilityRequest{NodeID: "n1", Eligibility: structs.NodeSchedulingEligible})
	if !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("eligible while draining: err = %v", err)
	}
	applyOK(t, f, 4, NodeUpdateDrain, &NodeUpdateDrainRequest{NodeID: "n1", Status: structs.DrainStatusComplete, UpdatedAt: at.Add(time.Second)})
	n, err = f.State().NodeByID(nil, "n1")
	must(t, err)
	if n.Drain || n.DrainStrategy != nil || n.SchedulingEligibility != structs.NodeSchedulingIneligible {
		t.Fatalf("node after drain end = %v %+v %s", n.Drain, n.DrainStrategy, n.SchedulingEligibility)
	}
	if n.LastDrain == nil || n.LastDrain.Status != structs.DrainStatusComplete || !n.LastDrain.StartedAt.Equal(at) {
		t.Fatalf("LastDrain = %+v", n.LastDrain)
	}
	applyOK(t, f, 5, NodeUpdateEligibility, &NodeUpdateEligibilityRequest{NodeID: "n1", Eligibility: structs.NodeSchedulingEligible})
	n, err = f.State().NodeByID(nil, "n1")
	must(t, err)
	if n.SchedulingEligibility != structs.NodeSchedulingEligible {
		t.Fatalf("eligibility = %s", n.SchedulingEligibility)
	}
}
