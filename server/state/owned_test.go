package state

import (
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// registrations is a run of registrations that moves a job through new,
// unchanged, changed and running, each applied with upsert.
func registrations(t *testing.T, s *StateStore, upsert func(index uint64, job *structs.Job, evals ...*structs.Evaluation) error) {
	t.Helper()
	job := statetest.Job("web")
	must(t, upsert(10, job.Copy(), statetest.Eval("e1", job)))
	must(t, upsert(11, job.Copy(), statetest.Eval("e2", job)))
	changed := job.Copy()
	changed.Meta = map[string]string{"v": "2"}
	must(t, upsert(12, changed.Copy()))
	stored := mustJob(t, s, "web")
	must(t, s.UpsertAllocs(13, []*structs.Allocation{statetest.Alloc("a1", stored, 0, "n1", "e1")}))
	done := statetest.Eval("e3", job)
	done.Status = structs.EvalStatusComplete
	changed.Meta["v"] = "3"
	must(t, upsert(14, changed.Copy(), done, statetest.Eval("e-other", statetest.Job("other"))))
	sys := statetest.Job("sys")
	sys.Type = structs.JobTypeSystem
	must(t, upsert(15, sys, statetest.Eval("e4", sys)))
}

func dumpJobTables(t *testing.T, s *Reader) string {
	t.Helper()
	jobs, err := s.Jobs(nil)
	must(t, err)
	versions, err := s.AllJobVersions(nil)
	must(t, err)
	summaries, err := s.JobSummaries(nil)
	must(t, err)
	evals, err := s.Evals(nil)
	must(t, err)
	indexes, err := s.Indexes()
	must(t, err)
	return statetest.Dump([]any{jobs, versions, summaries, evals, indexes})
}

// TestUpsertJobOwnedStoresWhatUpsertJobStores: handing the objects over
// saves copies and changes nothing in what is stored.
func TestUpsertJobOwnedStoresWhatUpsertJobStores(t *testing.T) {
	copied, owned := newStore(t), newStore(t)
	registrations(t, copied, copied.UpsertJob)
	registrations(t, owned, owned.UpsertJobOwned)
	if a, b := dumpJobTables(t, &copied.Reader), dumpJobTables(t, &owned.Reader); a != b {
		t.Fatalf("UpsertJobOwned stored something else than UpsertJob:\nUpsertJob:      %s\nUpsertJobOwned: %s", a, b)
	}
}

// TestUpsertEvalsOwnedStoresWhatUpsertEvalsStores, the same for evaluations.
func TestUpsertEvalsOwnedStoresWhatUpsertEvalsStores(t *testing.T) {
	copied, owned := newStore(t), newStore(t)
	for _, s := range []*StateStore{copied, owned} {
		registrations(t, s, s.UpsertJob)
	}
	job := statetest.Job("web")
	evals := func() []*structs.Evaluation {
		done := statetest.Eval("e1", job)
		done.Status = structs.EvalStatusComplete
		blocked := statetest.Eval("e-blocked", job)
		blocked.Status = structs.EvalStatusBlocked
		blocked.QueuedAllocations = map[string]int{"web": 2}
		blocked.FailedTGAllocs = map[string]*structs.AllocMetric{"web": {NodesEvaluated: 2, DimensionExhausted: map[string]int{"memory": 1}}}
		return []*structs.Evaluation{done, blocked}
	}
	must(t, copied.UpsertEvals(20, evals()))
	must(t, owned.UpsertEvalsOwned(20, evals()))
	if a, b := dumpJobTables(t, &copied.Reader), dumpJobTables(t, &owned.Reader); a != b {
		t.Fatalf("UpsertEvalsOwned stored something else than UpsertEvals:\nUpsertEvals:      %s\nUpsertEvalsOwned: %s", a, b)
	}
}

// TestStoredJobsAreNeverChangedInPlace: the jobs table and the versions
// share the stored job, which is safe only as long as no write changes a
// stored object in place. A snapshot shares the objects of the store, so
// it would see such a change.
func TestStoredJobsAreNeverChangedInPlace(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	must(t, s.UpsertJobOwned(10, job.Copy(), statetest.Eval("e1", job)))
	snap, err := s.Snapshot()
	must(t, err)
	before := dumpJobTables(t, &snap.Reader)

	stored := mustJob(t, s, "web")
	must(t, s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", stored, 0, "n1", "e1")}))
	must(t, s.UpdateAllocsFromClient(12, []*structs.Allocation{clientUpdate("a1", structs.AllocClientStatusRunning)}))
	must(t, s.UpsertJobOwned(13, job.Copy()))
	must(t, s.SetJobStability(14, structs.DefaultNamespace, "web", 0, true))
	must(t, s.StopJob(15, structs.DefaultNamespace, "web", statetest.Eval("e2", job)))
	done := statetest.Eval("e1", job)
	done.Status = structs.EvalStatusComplete
	must(t, s.UpsertEvals(16, []*structs.Evaluation{done}))

	if after := dumpJobTables(t, &snap.Reader); after != before {
		t.Fatalf("later writes changed objects a snapshot holds:\nbefore: %s\nafter:  %s", before, after)
	}
}
