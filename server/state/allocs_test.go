package state

import (
	"slices"
	"testing"
	"time"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// registered stores job "web" with a pending evaluation "e1" at index 10 and
// returns the stored job, as a scheduler would read it.
func registered(t *testing.T, s *StateStore) *structs.Job {
	t.Helper()
	job := statetest.Job("web")
	must(t, s.UpsertJob(10, job, statetest.Eval("e1", job)))
	return mustJob(t, s, "web")
}

func clientUpdate(id, status string) *structs.Allocation {
	return &structs.Allocation{
		ID:           id,
		ClientStatus: status,
		TaskStates:   statetest.TaskStates(structs.TaskStateRunning, time.Unix(1700000000, 0)),
		ModifyTime:   1700000000,
	}
}

func wantGroup(t *testing.T, s *StateStore, want structs.TaskGroupSummary) {
	t.Helper()
	if got := mustSummary(t, s, "web", "web"); got != want {
		t.Fatalf("summary = %+v, want %+v", got, want)
	}
}

func wantStatus(t *testing.T, s *StateStore, want string) {
	t.Helper()
	if got := mustJob(t, s, "web").Status; got != want {
		t.Fatalf("job status = %q, want %q", got, want)
	}
}

func TestSummaryAndStatusFollowAllocations(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	wantStatus(t, s, structs.JobStatusPending)

	// The scheduler reports two queued, then places them.
	done := statetest.Eval("e1", job)
	done.Status = structs.EvalStatusComplete
	done.QueuedAllocations = map[string]int{"web": 2}
	must(t, s.UpsertEvals(11, []*structs.Evaluation{done}))
	wantGroup(t, s, structs.TaskGroupSummary{Queued: 2})
	wantStatus(t, s, structs.JobStatusDead) // all evals terminal and nothing placed yet

	a1, a2 := statetest.Alloc("a1", job, 0, "n1", "e1"), statetest.Alloc("a2", job, 1, "n1", "e1")
	must(t, s.UpsertAllocs(12, []*structs.Allocation{a1, a2}))
	wantGroup(t, s, structs.TaskGroupSummary{Starting: 2})
	wantStatus(t, s, structs.JobStatusRunning)

	must(t, s.UpdateAllocsFromClient(13, []*structs.Allocation{
		clientUpdate("a1", structs.AllocClientStatusRunning),
		clientUpdate("a2", structs.AllocClientStatusRunning),
	}))
	wantGroup(t, s, structs.TaskGroupSummary{Running: 2})

	must(t, s.UpdateAllocsFromClient(14, []*structs.Allocation{clientUpdate("a1", structs.AllocClientStatusFailed)}))
	wantGroup(t, s, structs.TaskGroupSummary{Running: 1, Failed: 1})
	wantStatus(t, s, structs.JobStatusRunning)

	// The servers mark the other one lost while stopping it.
	lost := &structs.Allocation{ID: "a2", DesiredStatus: structs.AllocDesiredStatusStop, ClientStatus: structs.AllocClientStatusLost}
	must(t, s.UpsertPlanResults(15, &ApplyPlanResultsRequest{AllocsStopped: []*structs.Allocation{lost}}))
	wantGroup(t, s, structs.TaskGroupSummary{Failed: 1, Lost: 1})
	wantStatus(t, s, structs.JobStatusDead)

	mustIndex(t, s, TableAllocs, 15)
	mustIndex(t, s, TableJobSummary, 15)
	if got := mustJob(t, s, "web").ModifyIndex; got != 15 {
		t.Fatalf("job ModifyIndex after its status changed = %d, want 15", got)
	}
}

func TestBatchJobIsDeadWhenAllComplete(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	job.Type = structs.JobTypeBatch
	eval := statetest.Eval("e1", job)
	must(t, s.UpsertJob(10, job, eval))
	stored := mustJob(t, s, "web")
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", stored, 0, "n1", "e1")}))
	eval.Status = structs.EvalStatusComplete
	must(t, s.UpsertEvals(12, []*structs.Evaluation{eval}))
	wantStatus(t, s, structs.JobStatusRunning)

	must(t, s.UpdateAllocsFromClient(13, []*structs.Allocation{clientUpdate("a1", structs.AllocClientStatusComplete)}))
	wantStatus(t, s, structs.JobStatusDead)
	wantGroup(t, s, structs.TaskGroupSummary{Complete: 1})
}

func TestSystemJobRunsUntilStopped(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	job.Type = structs.JobTypeSystem
	must(t, s.UpsertJob(10, job))
	wantStatus(t, s, structs.JobStatusRunning)
	must(t, s.StopJob(11, structs.DefaultNamespace, "web"))
	wantStatus(t, s, structs.JobStatusDead)
}

func TestServerUpdateKeepsClientFields(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", job, 0, "n1", "e1")}))
	must(t, s.UpdateAllocsFromClient(12, []*structs.Allocation{clientUpdate("a1", structs.AllocClientStatusRunning)}))

	// An in-place update from a plan: no job, a stale client status.
	update := statetest.Alloc("a1", job, 0, "n1", "e2")
	update.Job = nil
	update.ClientStatus = structs.AllocClientStatusPending
	update.TaskStates = nil
	must(t, s.UpsertAllocs(13, []*structs.Allocation{update}))

	got, err := s.AllocByID(nil, "a1")
	must(t, err)
	if got.ClientStatus != structs.AllocClientStatusRunning || got.TaskStates["app"] == nil {
		t.Fatalf("client fields lost: status %q, task states %v", got.ClientStatus, got.TaskStates)
	}
	if got.Job == nil || got.Job.ID != "web" {
		t.Fatal("the stored job was not kept")
	}
	if got.EvalID != "e2" || got.CreateIndex != 11 || got.ModifyIndex != 13 || got.AllocModifyIndex != 13 {
		t.Fatalf("alloc = eval %q, indexes %d/%d/%d", got.EvalID, got.CreateIndex, got.ModifyIndex, got.AllocModifyIndex)
	}
	wantGroup(t, s, structs.TaskGroupSummary{Running: 1})
}

func TestNewAllocationNeedsAJob(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	a := statetest.Alloc("a1", job, 0, "n1", "e1")
	a.Job = nil
	if err := s.UpsertAllocs(11, []*structs.Allocation{a}); err == nil {
		t.Fatal("an allocation without a job was accepted")
	}
	mustIndex(t, s, TableAllocs, 0)
}

func TestUpdateAllocsFromClientTakesOnlyClientFields(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", job, 0, "n1", "e1")}))

	update := clientUpdate("a1", structs.AllocClientStatusRunning)
	update.ClientDescription = "tasks are running"
	update.DesiredStatus = structs.AllocDesiredStatusStop // not the client's to say
	update.NodeID = "elsewhere"
	retry := statetest.Eval("e-retry", job)
	must(t, s.UpdateAllocsFromClient(12, []*structs.Allocation{update, clientUpdate("unknown", structs.AllocClientStatusRunning)}, retry))

	got, err := s.AllocByID(nil, "a1")
	must(t, err)
	if got.ClientStatus != structs.AllocClientStatusRunning || got.ClientDescription != "tasks are running" ||
		got.ModifyTime != 1700000000 || got.TaskStates["app"].State != structs.TaskStateRunning {
		t.Fatalf("client fields not applied: %+v", got)
	}
	if got.DesiredStatus != structs.AllocDesiredStatusRun || got.NodeID != "n1" {
		t.Fatalf("server fields changed by a client: desired %q node %q", got.DesiredStatus, got.NodeID)
	}
	if got.ModifyIndex != 12 || got.AllocModifyIndex != 11 {
		t.Fatalf("indexes = modify %d alloc-modify %d, want 12, 11", got.ModifyIndex, got.AllocModifyIndex)
	}
	if unknown, _ := s.AllocByID(nil, "unknown"); unknown != nil {
		t.Fatal("an unknown allocation was created from a client update")
	}
	if e, _ := s.EvalByID(nil, "e-retry"); e == nil || e.CreateIndex != 12 {
		t.Fatalf("eval committed with the update = %+v", e)
	}
}

func TestPlanResults(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("old", job, 0, "n1", "e0")}))

	place := statetest.Alloc("new", job, 0, "n2", "e1")
	place.Job = nil // plans send the job once
	stop := &structs.Allocation{ID: "old", DesiredDescription: "alloc is being updated", ModifyTime: 99, NextAllocation: "new"}
	followUp := statetest.Eval("e2", job)
	followUp.Status = structs.EvalStatusBlocked
	must(t, s.UpsertPlanResults(12, &ApplyPlanResultsRequest{
		Job:           job,
		AllocsUpdated: []*structs.Allocation{place},
		AllocsStopped: []*structs.Allocation{stop, {ID: "collected-already"}},
		EvalID:        "e1",
		Evals:         []*structs.Evaluation{followUp},
	}))

	old, err := s.AllocByID(nil, "old")
	must(t, err)
	if old.DesiredStatus != structs.AllocDesiredStatusStop || old.DesiredDescription != "alloc is being updated" ||
		old.ModifyTime != 99 || old.NextAllocation != "new" || old.AllocModifyIndex != 12 {
		t.Fatalf("stopped alloc = %+v", old)
	}
	if old.ClientStatus != structs.AllocClientStatusPending {
		t.Fatalf("a stop changed the client status to %q", old.ClientStatus)
	}
	placed, err := s.AllocByID(nil, "new")
	must(t, err)
	if placed == nil || placed.Job == nil || placed.Job.JobModifyIndex != job.JobModifyIndex || placed.CreateIndex != 12 {
		t.Fatalf("placed alloc = %+v", placed)
	}
	if ghost, _ := s.AllocByID(nil, "collected-already"); ghost != nil {
		t.Fatal("a stop of an unknown allocation created it")
	}
	e1, err := s.EvalByID(nil, "e1")
	must(t, err)
	if e1.ModifyIndex != 12 || e1.CreateIndex != 10 {
		t.Fatalf("plan's eval indexes = %d/%d, want create 10 modify 12", e1.CreateIndex, e1.ModifyIndex)
	}
	if e2, _ := s.EvalByID(nil, "e2"); e2 == nil {
		t.Fatal("the plan's follow-up evaluation was not committed")
	}
}

func TestAllocLookups(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	must(t, s.UpsertAllocs(11, []*structs.Allocation{
		statetest.Alloc("b2", job, 1, "n1", "e1"),
		statetest.Alloc("a1", job, 0, "n2", "e1"),
		statetest.Alloc("b1", job, 2, "n1", "e2"),
	}))

	cases := []struct {
		name string
		read func() ([]*structs.Allocation, error)
		want []string
	}{
		{"all", func() ([]*structs.Allocation, error) { return s.Allocs(nil) }, []string{"a1", "b1", "b2"}},
		{"prefix", func() ([]*structs.Allocation, error) { return s.AllocsByIDPrefix(nil, "b") }, []string{"b1", "b2"}},
		{"node", func() ([]*structs.Allocation, error) { return s.AllocsByNode(nil, "n1") }, []string{"b1", "b2"}},
		{"eval", func() ([]*structs.Allocation, error) { return s.AllocsByEval(nil, "e1") }, []string{"a1", "b2"}},
		{"job", func() ([]*structs.Allocation, error) {
			return s.AllocsByJob(nil, structs.DefaultNamespace, "web", false)
		}, []string{"a1", "b1", "b2"}},
		{"no node", func() ([]*structs.Allocation, error) { return s.AllocsByNode(nil, "n9") }, nil},
	}
	for _, c := range cases {
		allocs, err := c.read()
		must(t, err)
		var got []string
		for _, a := range allocs {
			got = append(got, a.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAllocsByJobLeavesOutAnEarlierJobWithTheSameID(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("old", job, 0, "n1", "e1")}))
	must(t, s.DeleteJob(12, structs.DefaultNamespace, "web"))
	must(t, s.UpsertJob(13, statetest.Job("web")))
	again := mustJob(t, s, "web")
	must(t, s.UpsertAllocs(14, []*structs.Allocation{statetest.Alloc("new", again, 0, "n1", "e2")}))

	current, err := s.AllocsByJob(nil, structs.DefaultNamespace, "web", false)
	must(t, err)
	if len(current) != 1 || current[0].ID != "new" {
		t.Fatalf("current allocs = %d, want only new", len(current))
	}
	all, err := s.AllocsByJob(nil, structs.DefaultNamespace, "web", true)
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("all allocs = %d, want 2", len(all))
	}
	// The old allocation does not count toward the new job's summary.
	must(t, s.UpdateAllocsFromClient(15, []*structs.Allocation{clientUpdate("old", structs.AllocClientStatusRunning)}))
	wantGroup(t, s, structs.TaskGroupSummary{Starting: 1})
}
