package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/server/evalbroker"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/scheduler"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// recordingPlanner commits plans straight into a real state store, so the
// scheduler is exercised against the store it meets in production.
type recordingPlanner struct {
	t     *testing.T
	st    *state.StateStore
	index uint64
	plans []*structs.Plan
	evals []*structs.Evaluation
}

func (p *recordingPlanner) next() uint64 { p.index++; return p.index }

func (p *recordingPlanner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	p.plans = append(p.plans, plan)
	req := &state.ApplyPlanResultsRequest{Job: plan.Job, EvalID: plan.EvalID}
	for _, allocs := range plan.NodeAllocation {
		req.AllocsUpdated = append(req.AllocsUpdated, allocs...)
	}
	for _, allocs := range plan.NodeUpdate {
		req.AllocsStopped = append(req.AllocsStopped, allocs...)
	}
	if err := p.st.UpsertPlanResults(p.next(), req); err != nil {
		return nil, nil, err
	}
	return &structs.PlanResult{NodeAllocation: plan.NodeAllocation, NodeUpdate: plan.NodeUpdate, AllocIndex: p.index}, nil, nil
}

func (p *recordingPlanner) UpdateEval(e *structs.Evaluation) error {
	p.evals = append(p.evals, e)
	return p.st.UpsertEvals(p.next(), []*structs.Evaluation{e})
}

func (p *recordingPlanner) CreateEval(e *structs.Evaluation) error { return p.UpdateEval(e) }

func TestSchedulerPlacesOnRealStateStore(t *testing.T) {
	st, err := state.NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingPlanner{t: t, st: st, index: 10}
	job := statetest.Job("web")
	job.TaskGroups[0].Count = 3
	if err := st.UpsertNode(p.next(), statetest.Node("n1")); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertNode(p.next(), statetest.Node("n2")); err != nil {
		t.Fatal(err)
	}
	eval := statetest.Eval("e1", job)
	if err := st.UpsertJob(p.next(), job, eval); err != nil {
		t.Fatal(err)
	}

	run := func(e *structs.Evaluation) {
		t.Helper()
		snap, err := st.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		clock := func() time.Time { return time.Unix(1700000000, 0) }
		if err := scheduler.New(nil, snapshotState{snap}, p, clock).Process(e); err != nil {
			t.Fatal(err)
		}
	}
	run(eval)

	allocs, err := st.AllocsByJob(nil, job.Namespace, job.ID, true)
	if err != nil || len(allocs) != 3 {
		t.Fatalf("allocs: %v %d", err, len(allocs))
	}
	perNode := map[string]int{}
	for _, a := range allocs {
		perNode[a.NodeID]++
		if a.DesiredStatus != structs.AllocDesiredStatusRun || a.AllocatedResources == nil {
			t.Fatalf("alloc %+v", a)
		}
	}
	if len(perNode) != 2 {
		t.Fatalf("three allocations on one node: %v", perNode)
	}
	if got := p.evals[len(p.evals)-1]; got.Status != structs.EvalStatusComplete {
		t.Fatalf("eval status %q", got.Status)
	}

	// At-least-once delivery: the same evaluation again changes nothing.
	plans := len(p.plans)
	run(eval)
	if len(p.plans) != plans {
		if !p.plans[len(p.plans)-1].IsNoOp() {
			t.Fatalf("a redelivered evaluation planned again: %+v", p.plans[len(p.plans)-1])
		}
	}
	if after, _ := st.AllocsByJob(nil, job.Namespace, job.ID, true); len(after) != 3 {
		t.Fatalf("redelivery changed the allocations: %d", len(after))
	}
}

// storeWithEval is a state store holding job "web" (statetest.Job) at
// index 10 with its pending evaluation e1, and that evaluation as stored.
func storeWithEval(t *testing.T) (*state.StateStore, *structs.Evaluation) {
	t.Helper()
	st, err := state.NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	job := statetest.Job("web")
	eval := statetest.Eval("e1", job)
	if err := st.UpsertJob(10, job, eval); err != nil {
		t.Fatal(err)
	}
	stored, err := st.EvalByID(nil, eval.ID)
	if err != nil || stored == nil {
		t.Fatalf("stored eval: %v, %v", stored, err)
	}
	return st, stored
}

// An evaluation that cannot place anything ends blocked: the blocked
// evaluation and the update of the evaluation are written in one Raft
// entry, and the blocked one is tracked with that entry's index.
func TestWorkerWritesBlockedEvalWithTheUpdateInOneEntry(t *testing.T) {
	st, stored := storeWithEval(t)

	var entries [][]*structs.Evaluation
	index := uint64(10)
	apply := func(mt fsm.MessageType, req any) (uint64, error) {
		r, ok := req.(*fsm.EvalUpdateRequest)
		if mt != fsm.EvalUpdate || !ok {
			t.Fatalf("unexpected apply %s %T", mt, req)
		}
		entries = append(entries, r.Evals)
		index++
		return index, st.UpsertEvals(index, r.Evals)
	}
	blocked := evalbroker.NewBlocked(evalbroker.New(evalbroker.Config{}))
	blocked.SetEnabled(true)
	w := New(Config{Blocked: blocked, State: func() *state.StateStore { return st }, Apply: apply,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Unix(1700000000, 0) }})
	commit, err := w.process(t.Context(), stored, "token")
	if err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil { // Run commits the outcome after process
		t.Fatal(err)
	}

	if len(entries) != 1 || len(entries[0]) != 2 {
		t.Fatalf("entries %v: want one entry with the blocked evaluation and the update", entries)
	}
	b, done := entries[0][0], entries[0][1]
	if b.Status != structs.EvalStatusBlocked || done.ID != stored.ID || done.Status != structs.EvalStatusComplete || done.BlockedEval != b.ID {
		t.Fatalf("entry holds %s (%s) and %s (%s, blocked eval %q)", b.ID, b.Status, done.ID, done.Status, done.BlockedEval)
	}
	if blocked.Len() != 1 {
		t.Fatalf("%d blocked evaluations tracked, want 1", blocked.Len())
	}
	got, err := st.EvalByID(nil, b.ID)
	if err != nil || got == nil || got.CreateIndex != index {
		t.Fatalf("blocked eval in state: %+v, %v; want created at %d", got, err, index)
	}
}

// Run acks an evaluation only once its outcome is committed, and gives it
// back when the commit fails, while it goes on with the next evaluation.
func TestRunAcksOnlyCommittedOutcomes(t *testing.T) {
	st, stored := storeWithEval(t)

	failed := make(chan *structs.Evaluation, 1)
	broker := evalbroker.New(evalbroker.Config{NackTimeout: time.Minute, DeliveryLimit: 2,
		OnFailed: func(e *structs.Evaluation) { failed <- e }})
	broker.SetEnabled(true)
	blocked := evalbroker.NewBlocked(broker)
	blocked.SetEnabled(true)

	var mu sync.Mutex
	commits, fail := 0, true
	index := uint64(10)
	apply := func(mt fsm.MessageType, req any) (uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		if fail {
			return 0, errors.New("no quorum")
		}
		index++
		return index, st.UpsertEvals(index, req.(*fsm.EvalUpdateRequest).Evals)
	}
	w := New(Config{Broker: broker, Blocked: blocked, State: func() *state.StateStore { return st }, Apply: apply,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Unix(1700000000, 0) }})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Every commit fails: the evaluation is given back until the broker
	// gives up on it.
	broker.Enqueue(stored)
	select {
	case e := <-failed:
		if e.ID != stored.ID {
			t.Fatalf("failed %s", e.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the evaluation was not given back: %+v", broker.Stats())
	}

	// Once commits succeed, the evaluation is acked after its outcome is
	// in the state.
	mu.Lock()
	fail = false
	mu.Unlock()
	again := stored.Copy()
	again.ID = "e2"
	if err := st.UpsertEvals(20, []*structs.Evaluation{again}); err != nil {
		t.Fatal(err)
	}
	again.ModifyIndex = 20
	broker.Enqueue(again)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := st.EvalByID(nil, "e2")
		if err != nil {
			t.Fatal(err)
		}
		s := broker.Stats()
		if got.Status == structs.EvalStatusComplete && s.Unacked == 0 && s.Ready == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("e2 is %s, broker %+v", got.Status, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
