package state

import (
	"errors"
	"slices"
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestUpsertJobSetsIndexesVersionAndSummary(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	job.Status = structs.JobStatusRunning // the caller's status is ignored
	job.Version = 7                       // and so is its version
	must(t, s.UpsertJob(10, job))

	got := mustJob(t, s, "web")
	if got.CreateIndex != 10 || got.ModifyIndex != 10 || got.JobModifyIndex != 10 {
		t.Fatalf("indexes = %d/%d/%d, want 10/10/10", got.CreateIndex, got.ModifyIndex, got.JobModifyIndex)
	}
	if got.Version != 0 {
		t.Fatalf("version = %d, want 0", got.Version)
	}
	if got.Status != structs.JobStatusPending {
		t.Fatalf("status = %q, want pending", got.Status)
	}
	if job.CreateIndex != 0 {
		t.Fatal("UpsertJob changed the caller's job")
	}
	sum, err := s.JobSummaryByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if sum == nil || sum.CreateIndex != 10 || sum.ModifyIndex != 10 {
		t.Fatalf("summary = %+v", sum)
	}
	if _, ok := sum.Summary["web"]; !ok || len(sum.Summary) != 1 {
		t.Fatalf("summary groups = %v, want web", sum.Summary)
	}
	mustIndex(t, s, TableJobs, 10)
	mustIndex(t, s, TableJobSummary, 10)
}

func TestUpsertJobVersionsOnlyOnSpecChange(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))

	// The same spec again: ModifyIndex moves, version does not.
	same := statetest.Job("web")
	same.SubmitTime = 12345
	must(t, s.UpsertJob(11, same))
	got := mustJob(t, s, "web")
	if got.Version != 0 || got.JobModifyIndex != 10 || got.ModifyIndex != 11 || got.CreateIndex != 10 {
		t.Fatalf("unchanged re-register: version %d, indexes %d/%d/%d", got.Version, got.CreateIndex, got.ModifyIndex, got.JobModifyIndex)
	}

	// A config value given as an int equals the float64 a log replay gives.
	replayed := statetest.Job("web")
	replayed.TaskGroups[0].Tasks[0].Config["cpu_hard_limit"] = 1
	must(t, s.UpsertJob(12, replayed))
	replayed = statetest.Job("web")
	replayed.TaskGroups[0].Tasks[0].Config["cpu_hard_limit"] = float64(1)
	must(t, s.UpsertJob(13, replayed))
	if got := mustJob(t, s, "web"); got.Version != 1 || got.JobModifyIndex != 12 {
		t.Fatalf("int vs float64: version %d, job modify index %d, want 1, 12", got.Version, got.JobModifyIndex)
	}

	// A new group: a new version, and the summary gains the group.
	changed := statetest.Job("web")
	changed.TaskGroups = append(changed.TaskGroups, statetest.Job("web").TaskGroups[0])
	changed.TaskGroups[1].Name = "api"
	must(t, s.UpsertJob(14, changed))
	got = mustJob(t, s, "web")
	if got.Version != 2 || got.JobModifyIndex != 14 {
		t.Fatalf("changed: version %d, job modify index %d, want 2, 14", got.Version, got.JobModifyIndex)
	}
	sum, err := s.JobSummaryByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if _, ok := sum.Summary["api"]; !ok || sum.ModifyIndex != 14 {
		t.Fatalf("summary after new group: %+v", sum)
	}
}

func TestUpsertJobWithEvalCommitsBoth(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	eval := statetest.Eval("e1", job)
	must(t, s.UpsertJob(20, job, eval))

	got, err := s.EvalByID(nil, "e1")
	must(t, err)
	if got == nil || got.CreateIndex != 20 || got.JobModifyIndex != 20 {
		t.Fatalf("eval = %+v", got)
	}
	if eval.JobModifyIndex != 0 {
		t.Fatal("UpsertJob changed the caller's eval")
	}
	if j := mustJob(t, s, "web"); j.Status != structs.JobStatusPending {
		t.Fatalf("status = %q, want pending", j.Status)
	}
	mustIndex(t, s, TableEvals, 20)
}

func TestStopJobIsANewVersion(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))
	stopEval := statetest.Eval("e-stop", statetest.Job("web"))
	stopEval.TriggeredBy = structs.EvalTriggerJobDeregister
	must(t, s.StopJob(11, structs.DefaultNamespace, "web", stopEval))

	got := mustJob(t, s, "web")
	if !got.Stop || got.Version != 1 || got.JobModifyIndex != 11 {
		t.Fatalf("stopped job: stop %v version %d jmi %d", got.Stop, got.Version, got.JobModifyIndex)
	}
	e, err := s.EvalByID(nil, "e-stop")
	must(t, err)
	if e == nil || e.JobModifyIndex != 11 {
		t.Fatalf("stop eval = %+v", e)
	}

	err = s.StopJob(12, structs.DefaultNamespace, "nope")
	if !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("stop of a missing job: %v, want not found", err)
	}
	mustIndex(t, s, TableJobs, 11) // the failed write left nothing
}

func TestDeleteJobKeepsAllocsAndEvals(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	must(t, s.UpsertJob(10, job, statetest.Eval("e1", job)))
	stored := mustJob(t, s, "web")
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", stored, 0, "n1", "e1")}))

	must(t, s.DeleteJob(12, structs.DefaultNamespace, "web"))
	if j, err := s.JobByID(nil, structs.DefaultNamespace, "web"); err != nil || j != nil {
		t.Fatalf("job after delete = %v, %v", j, err)
	}
	if sum, err := s.JobSummaryByID(nil, structs.DefaultNamespace, "web"); err != nil || sum != nil {
		t.Fatalf("summary after delete = %v, %v", sum, err)
	}
	if a, _ := s.AllocByID(nil, "a1"); a == nil {
		t.Fatal("allocation deleted with the job")
	}
	if e, _ := s.EvalByID(nil, "e1"); e == nil {
		t.Fatal("evaluation deleted with the job")
	}
	mustIndex(t, s, TableJobs, 12)
	mustIndex(t, s, TableJobSummary, 12)
	if err := s.DeleteJob(13, structs.DefaultNamespace, "web"); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("second delete: %v, want not found", err)
	}
}

func TestJobListsArePrefixedAndSorted(t *testing.T) {
	s := newStore(t)
	for i, id := range []string{"web-b", "api", "web-a"} {
		must(t, s.UpsertJob(uint64(10+i), statetest.Job(id)))
	}
	other := statetest.Job("web-c")
	other.Namespace = "other"
	must(t, s.UpsertJob(20, other))

	jobs, err := s.Jobs(nil)
	must(t, err)
	if got := jobIDs(jobs); !slices.Equal(got, []string{"default/api", "default/web-a", "default/web-b", "other/web-c"}) {
		t.Fatalf("Jobs = %v", got)
	}
	jobs, err = s.JobsByIDPrefix(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if got := jobIDs(jobs); !slices.Equal(got, []string{"default/web-a", "default/web-b"}) {
		t.Fatalf("JobsByIDPrefix = %v", got)
	}
	jobs, err = s.JobsByIDPrefix(nil, structs.DefaultNamespace, "zzz")
	must(t, err)
	if jobs == nil || len(jobs) != 0 {
		t.Fatalf("no match = %#v, want an empty list", jobs)
	}
	if j, err := s.JobByID(nil, "other", "web-a"); j != nil || err != nil {
		t.Fatalf("lookup in the wrong namespace = %v, %v", j, err)
	}
}

func jobIDs(jobs []*structs.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Namespace+"/"+j.ID)
	}
	return out
}

func TestWritesNeedIDs(t *testing.T) {
	s := newStore(t)
	noNamespace := statetest.Job("web")
	noNamespace.Namespace = ""
	noJobID := statetest.Eval("e1", statetest.Job("web"))
	noJobID.JobID = ""
	for name, err := range map[string]error{
		"job":   s.UpsertJob(1, noNamespace),
		"eval":  s.UpsertEvals(1, []*structs.Evaluation{noJobID}),
		"node":  s.UpsertNode(1, statetest.Node("")),
		"alloc": s.UpsertAllocs(1, []*structs.Allocation{statetest.Alloc("", statetest.Job("web"), 0, "n", "e")}),
	} {
		if err == nil {
			t.Errorf("%s without an ID was accepted", name)
		}
	}
}
