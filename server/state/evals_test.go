package state

import (
	"slices"
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestEvalLookups(t *testing.T) {
	s := newStore(t)
	web, api := statetest.Job("web"), statetest.Job("api")
	must(t, s.UpsertEvals(10, []*structs.Evaluation{
		statetest.Eval("bb", web), statetest.Eval("ab", api), statetest.Eval("ba", web),
	}))
	ids := func(evals []*structs.Evaluation, err error) []string {
		t.Helper()
		must(t, err)
		var out []string
		for _, e := range evals {
			out = append(out, e.ID)
		}
		return out
	}
	if got := ids(s.Evals(nil)); !slices.Equal(got, []string{"ab", "ba", "bb"}) {
		t.Errorf("Evals = %v", got)
	}
	if got := ids(s.EvalsByIDPrefix(nil, "b")); !slices.Equal(got, []string{"ba", "bb"}) {
		t.Errorf("EvalsByIDPrefix = %v", got)
	}
	if got := ids(s.EvalsByJob(nil, structs.DefaultNamespace, "web")); !slices.Equal(got, []string{"ba", "bb"}) {
		t.Errorf("EvalsByJob = %v", got)
	}
	if e, err := s.EvalByID(nil, "zz"); e != nil || err != nil {
		t.Errorf("missing eval = %v, %v", e, err)
	}

	// An update keeps CreateIndex.
	again := statetest.Eval("ab", api)
	again.Status = structs.EvalStatusComplete
	must(t, s.UpsertEvals(11, []*structs.Evaluation{again}))
	e, err := s.EvalByID(nil, "ab")
	must(t, err)
	if e.CreateIndex != 10 || e.ModifyIndex != 11 || e.Status != structs.EvalStatusComplete {
		t.Errorf("updated eval = %+v", e)
	}
}

func TestDeleteEvalsCollectsAndMakesTheJobDead(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", job, 0, "n1", "e1")}))
	stopped := &structs.Allocation{ID: "a1", DesiredStatus: structs.AllocDesiredStatusStop}
	must(t, s.UpsertPlanResults(12, &ApplyPlanResultsRequest{AllocsStopped: []*structs.Allocation{stopped}}))
	wantStatus(t, s, structs.JobStatusPending) // e1 is still pending

	must(t, s.DeleteEvals(13, []string{"e1", "missing"}, []string{"a1", "missing"}))
	if e, _ := s.EvalByID(nil, "e1"); e != nil {
		t.Fatal("eval not deleted")
	}
	if a, _ := s.AllocByID(nil, "a1"); a != nil {
		t.Fatal("alloc not deleted")
	}
	wantStatus(t, s, structs.JobStatusDead)
	mustIndex(t, s, TableEvals, 13)
	mustIndex(t, s, TableAllocs, 13)
	latest, err := s.LatestIndex()
	must(t, err)
	if latest != 13 {
		t.Fatalf("LatestIndex = %d, want 13", latest)
	}
}

func TestQueuedCountsComeFromEvals(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	e := statetest.Eval("e1", job)
	e.QueuedAllocations = map[string]int{"web": 3, "gone": 1}
	must(t, s.UpsertEvals(11, []*structs.Evaluation{e}))
	wantGroup(t, s, structs.TaskGroupSummary{Queued: 3})
	sum, err := s.JobSummaryByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if _, ok := sum.Summary["gone"]; ok {
		t.Fatal("a group the job does not have was added to its summary")
	}
}
