package state

import (
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestSnapshotIsAPointInTime(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertJob(10, statetest.Job("web")))
	snap, err := s.Snapshot()
	must(t, err)
	must(t, s.DeleteJob(11, structs.DefaultNamespace, "web"))
	must(t, s.UpsertNode(12, statetest.Node("n1")))

	if j, err := snap.JobByID(nil, structs.DefaultNamespace, "web"); err != nil || j == nil {
		t.Fatalf("snapshot lost the job: %v, %v", j, err)
	}
	if n, _ := snap.NodeByID(nil, "n1"); n != nil {
		t.Fatal("snapshot sees a later write")
	}
	if idx, _ := snap.LatestIndex(); idx != 10 {
		t.Fatalf("snapshot LatestIndex = %d, want 10", idx)
	}
}

func TestRestoreKeepsObjectsAsGiven(t *testing.T) {
	src := newStore(t)
	job := registered(t, src)
	must(t, src.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", job, 0, "n1", "e1")}))
	must(t, src.UpsertNode(12, statetest.Node("n1")))

	dst := newStore(t)
	r := dst.Restore()
	jobs, _ := src.Jobs(nil)
	sums, _ := src.JobSummaries(nil)
	evals, _ := src.Evals(nil)
	allocs, _ := src.Allocs(nil)
	nodes, _ := src.Nodes(nil)
	indexes, _ := src.Indexes()
	for _, j := range jobs {
		must(t, r.JobRestore(j))
	}
	for _, sum := range sums {
		must(t, r.JobSummaryRestore(sum))
	}
	for _, e := range evals {
		must(t, r.EvalRestore(e))
	}
	for _, a := range allocs {
		must(t, r.AllocRestore(a))
	}
	for _, n := range nodes {
		must(t, r.NodeRestore(n))
	}
	for _, e := range indexes {
		must(t, r.IndexRestore(e.Table, e.Index))
	}
	if got, _ := dst.Jobs(nil); len(got) != 0 {
		t.Fatal("restore visible before commit")
	}
	r.Commit()

	if a, b := dumpAll(t, src), dumpAll(t, dst); a != b {
		t.Fatalf("restored state differs:\nsource:   %s\nrestored: %s", a, b)
	}
	ia, _ := src.Indexes()
	ib, _ := dst.Indexes()
	if statetest.Dump(ia) != statetest.Dump(ib) {
		t.Fatalf("indexes differ: %v vs %v", ia, ib)
	}

	aborted := newStore(t)
	r = aborted.Restore()
	must(t, r.JobRestore(job))
	r.Abort()
	if got, _ := aborted.Jobs(nil); len(got) != 0 {
		t.Fatal("aborted restore is visible")
	}
}

func TestFailedWriteChangesNothing(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	before := dumpAll(t, s)
	noJob := statetest.Alloc("a2", job, 1, "n1", "e1")
	noJob.Job = nil
	// The first allocation is fine, the second is not: neither is stored.
	err := s.UpsertAllocs(11, []*structs.Allocation{statetest.Alloc("a1", job, 0, "n1", "e1"), noJob})
	if err == nil {
		t.Fatal("expected an error")
	}
	if after := dumpAll(t, s); after != before {
		t.Fatal("a failed write left changes behind")
	}
	mustIndex(t, s, TableAllocs, 0)
}
