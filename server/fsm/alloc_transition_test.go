package fsm

import (
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestApplyAllocUpdateDesiredTransition(t *testing.T) {
	f := populate(t)
	job, err := f.State().JobByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	eval := statetest.Eval("e-stop", job)
	yes := true
	applyOK(t, f, 30, AllocUpdateDesiredTransition, &AllocUpdateDesiredTransitionRequest{
		Allocs: map[string]*structs.DesiredTransition{"a1": {Migrate: &yes}, "collected": {Migrate: &yes}},
		Evals:  []*structs.Evaluation{eval},
	})
	a, err := f.State().AllocByID(nil, "a1")
	must(t, err)
	if !a.DesiredTransition.ShouldMigrate() || a.AllocModifyIndex != 30 || a.ClientStatus != structs.AllocClientStatusRunning {
		t.Fatalf("alloc = transition %+v, alloc modify index %d, client status %q", a.DesiredTransition, a.AllocModifyIndex, a.ClientStatus)
	}
	if e, _ := f.State().EvalByID(nil, "e-stop"); e == nil {
		t.Fatal("the evaluation was not stored with the transition")
	}
}
