package state

import (
	"testing"
	"time"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// TestReadsReturnCopies changes everything reachable from what each read
// returns and checks that the store did not change.
func TestReadsReturnCopies(t *testing.T) {
	s := newStore(t)
	job := registered(t, s)
	e := statetest.Eval("e1", job)
	e.QueuedAllocations = map[string]int{"web": 1}
	e.FailedTGAllocs = map[string]*structs.AllocMetric{"web": {NodesEvaluated: 2, DimensionExhausted: map[string]int{"memory": 1}}}
	must(t, s.UpsertEvals(11, []*structs.Evaluation{e}))
	must(t, s.UpsertAllocs(12, []*structs.Allocation{statetest.Alloc("a1", job, 0, "n1", "e1"), statetest.Alloc("a2", job, 1, "n1", "e1")}))
	must(t, s.UpdateAllocsFromClient(13, []*structs.Allocation{clientUpdate("a1", structs.AllocClientStatusRunning)}))
	must(t, s.UpsertNode(14, statetest.Node("n1")))
	snap, err := s.Snapshot()
	must(t, err)

	ns := structs.DefaultNamespace
	reads := map[string]func() (any, error){
		"JobByID":          func() (any, error) { return s.JobByID(nil, ns, "web") },
		"Jobs":             func() (any, error) { return s.Jobs(nil) },
		"JobsByIDPrefix":   func() (any, error) { return s.JobsByIDPrefix(nil, ns, "w") },
		"JobSummaryByID":   func() (any, error) { return s.JobSummaryByID(nil, ns, "web") },
		"JobSummaries":     func() (any, error) { return s.JobSummaries(nil) },
		"EvalByID":         func() (any, error) { return s.EvalByID(nil, "e1") },
		"Evals":            func() (any, error) { return s.Evals(nil) },
		"EvalsByIDPrefix":  func() (any, error) { return s.EvalsByIDPrefix(nil, "e") },
		"EvalsByJob":       func() (any, error) { return s.EvalsByJob(nil, ns, "web") },
		"AllocByID":        func() (any, error) { return s.AllocByID(nil, "a1") },
		"Allocs":           func() (any, error) { return s.Allocs(nil) },
		"AllocsByIDPrefix": func() (any, error) { return s.AllocsByIDPrefix(nil, "a") },
		"AllocsByJob":      func() (any, error) { return s.AllocsByJob(nil, ns, "web", false) },
		"AllocsByNode":     func() (any, error) { return s.AllocsByNode(nil, "n1") },
		"AllocsByEval":     func() (any, error) { return s.AllocsByEval(nil, "e1") },
		"NodeByID":         func() (any, error) { return s.NodeByID(nil, "n1") },
		"Nodes":            func() (any, error) { return s.Nodes(nil) },
		"NodesByIDPrefix":  func() (any, error) { return s.NodesByIDPrefix(nil, "n") },
		"Indexes":          func() (any, error) { return s.Indexes() },
		"snapshot Allocs":  func() (any, error) { return snap.Allocs(nil) },
		"snapshot JobByID": func() (any, error) { return snap.JobByID(nil, ns, "web") },
	}
	for name, read := range reads {
		statetest.RequireCopies(t, name, read)
	}
}

// TestWritesStoreCopies checks that a caller changing what it wrote does
// not change the store.
func TestWritesStoreCopies(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	eval := statetest.Eval("e1", job)
	node := statetest.Node("n1")
	must(t, s.UpsertJob(10, job, eval))
	must(t, s.UpsertNode(11, node))
	alloc := statetest.Alloc("a1", job, 0, "n1", "e1")
	must(t, s.UpsertAllocs(12, []*structs.Allocation{alloc}))
	update := clientUpdate("a1", structs.AllocClientStatusRunning)
	must(t, s.UpdateAllocsFromClient(13, []*structs.Allocation{update}))

	before := dumpAll(t, s)
	for _, v := range []any{job, eval, node, alloc, update} {
		statetest.Mutate(v)
	}
	if after := dumpAll(t, s); after != before {
		t.Fatalf("changing written objects changed the store:\nbefore: %s\nafter:  %s", before, after)
	}
}

func dumpAll(t *testing.T, s *StateStore) string {
	t.Helper()
	jobs, err := s.Jobs(nil)
	must(t, err)
	evals, err := s.Evals(nil)
	must(t, err)
	allocs, err := s.Allocs(nil)
	must(t, err)
	nodes, err := s.Nodes(nil)
	must(t, err)
	return statetest.Dump([]any{jobs, evals, allocs, nodes})
}

func TestRequireCopiesCatchesSharing(t *testing.T) {
	shared := &structs.Job{ID: "x", Meta: map[string]string{"a": "b"}}
	rec := &recorder{TB: t}
	func() {
		defer func() { _ = recover() }() // Fatalf on the recorder stops here
		statetest.RequireCopies(rec, "shared", func() (any, error) { return shared, nil })
	}()
	if !rec.failed {
		t.Fatal("RequireCopies did not notice a read that returns the stored object")
	}
	copied := func() (any, error) {
		return &structs.Allocation{ID: "y", TaskStates: statetest.TaskStates("running", time.Unix(1, 0))}, nil
	}
	statetest.RequireCopies(t, "fresh", copied)
}

// recorder is a testing.TB whose Fatalf records the failure and unwinds.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	panic("fatal")
}
