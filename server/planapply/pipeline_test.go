package planapply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// heldRaft is a fake raft for a pipelined applier: submissions are
// recorded in order, and each commits into the state store only when the
// test releases it (with nil, or an error to fail it).
type heldRaft struct {
	t     *testing.T
	st    *state.StateStore
	mu    sync.Mutex
	index uint64
	// submitted receives the position of each submission.
	submitted chan int
	releases  []chan error
	// snapshots counts the snapshots the applier took.
	snapshots atomic.Int32
}

func newHeldRaft(t *testing.T, st *state.StateStore, index uint64) *heldRaft {
	return &heldRaft{t: t, st: st, index: index, submitted: make(chan int, 16)}
}

func (r *heldRaft) submit(mt fsm.MessageType, req any) func() (uint64, error) {
	body, ok := req.(*fsm.ApplyPlanResultsRequest)
	if mt != fsm.ApplyPlanResults || !ok {
		r.t.Errorf("unexpected submission %s %T", mt, req)
	}
	release := make(chan error, 1)
	r.mu.Lock()
	r.releases = append(r.releases, release)
	n := len(r.releases) - 1
	r.mu.Unlock()
	r.submitted <- n
	return func() (uint64, error) {
		if err := <-release; err != nil {
			return 0, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.index++
		return r.index, r.st.UpsertPlanResults(r.index, body)
	}
}

func (r *heldRaft) release(n int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releases[n] <- err
}

// waitSubmitted waits for submission n.
func (r *heldRaft) waitSubmitted(t *testing.T, n int) {
	t.Helper()
	select {
	case got := <-r.submitted:
		if got != n {
			t.Fatalf("submission %d, want %d", got, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("submission %d never came", n)
	}
}

// pipelineFixture is a store with nodes n1 and n2 and a job whose
// allocations take 3000 of a node's 4000 MHz, so one fits per node.
func pipelineFixture(t *testing.T) (*state.StateStore, *structs.Job, *heldRaft, *Applier, func()) {
	t.Helper()
	st, err := state.NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	job := statetest.Job("web")
	for i, id := range []string{"n1", "n2"} {
		if err := st.UpsertNode(uint64(i+1), statetest.Node(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.UpsertJob(3, job); err != nil {
		t.Fatal(err)
	}
	r := newHeldRaft(t, st, 3)
	a := New(func(fsm.MessageType, any) (uint64, error) {
		t.Error("the pipelined applier used the blocking apply")
		return 0, errors.New("unexpected")
	}, func() *state.StateStore { r.snapshots.Add(1); return st }, slog.New(slog.DiscardHandler), time.Now)
	a.Pipeline(r.submit)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	return st, job, r, a, func() {
		cancel()
		<-done
	}
}

func bigAlloc(id string, job *structs.Job, index int, nodeID, evalID string) *structs.Allocation {
	a := statetest.Alloc(id, job, index, nodeID, evalID)
	a.AllocatedResources.Tasks["app"].Cpu.CpuShares = 3000
	a.AllocatedResources.Shared.Ports = nil
	return a
}

type submitted struct {
	res *structs.PlanResult
	err error
}

func submitAsync(a *Applier, plan *structs.Plan) chan submitted {
	ch := make(chan submitted, 1)
	go func() {
		res, err := a.Submit(context.Background(), plan)
		ch <- submitted{res, err}
	}()
	return ch
}

func answer(t *testing.T, ch chan submitted) submitted {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("plan never answered")
		return submitted{}
	}
}

func placePlan(job *structs.Job, evalID string, allocs ...*structs.Allocation) *structs.Plan {
	p := &structs.Plan{EvalID: evalID, Job: job, NodeAllocation: map[string][]*structs.Allocation{}}
	for _, a := range allocs {
		p.NodeAllocation[a.NodeID] = append(p.NodeAllocation[a.NodeID], a)
	}
	return p
}

// checkNoOvercommit fails when a node of the store holds more than it has.
func checkNoOvercommit(t *testing.T, st *state.StateStore) {
	t.Helper()
	nodes, err := st.Nodes(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		allocs, err := st.AllocsByNodeShared(nil, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		var live []*structs.Allocation
		for _, a := range allocs {
			if !a.Terminal() {
				live = append(live, a)
			}
		}
		if ok, why := AllocsFit(n, live); !ok {
			t.Fatalf("node %s overcommitted: %s (%d allocations)", n.ID, why, len(live))
		}
	}
}

// A plan for another node is handed to raft while the first still commits.
func TestPipelineOverlapsIndependentPlans(t *testing.T) {
	st, job, r, a, stop := pipelineFixture(t)
	defer stop()
	first := submitAsync(a, placePlan(job, "e1", bigAlloc("a1", job, 0, "n1", "e1")))
	r.waitSubmitted(t, 0)
	second := submitAsync(a, placePlan(job, "e2", bigAlloc("a2", job, 1, "n2", "e2")))
	r.waitSubmitted(t, 1) // while the first is still held
	r.release(0, nil)
	s1 := answer(t, first)
	r.release(1, nil)
	s2 := answer(t, second)
	if s1.err != nil || s2.err != nil {
		t.Fatal(s1.err, s2.err)
	}
	if s1.res.AllocIndex != 4 || s2.res.AllocIndex != 5 || s2.res.RefreshIndex != 0 {
		t.Fatalf("results %+v %+v", s1.res, s2.res)
	}
	checkNoOvercommit(t, st)
}

// Two plans for the same node from the same stale view: the second is
// checked with the first's placement counted, so it is refused there even
// though the first is not committed yet.
func TestPipelineNeverOvercommitsANode(t *testing.T) {
	for _, firstFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("first fails %v", firstFails), func(t *testing.T) {
			st, job, r, a, stop := pipelineFixture(t)
			defer stop()
			first := submitAsync(a, placePlan(job, "e1", bigAlloc("a1", job, 0, "n1", "e1")))
			r.waitSubmitted(t, 0)
			second := submitAsync(a, placePlan(job, "e2", bigAlloc("a2", job, 1, "n1", "e2"), bigAlloc("a3", job, 2, "n2", "e2")))
			// The second does not fit n1 beside the first's placement: it
			// waits for the first to commit and is checked again.
			deadline := time.Now().Add(10 * time.Second)
			for r.snapshots.Load() < 2 {
				if time.Now().After(deadline) {
					t.Fatal("the second plan was never checked")
				}
				time.Sleep(time.Millisecond) // polling, bounded by the deadline
			}
			var failure error
			if firstFails {
				failure = errors.New("commit failed")
			}
			r.release(0, failure)
			s1 := answer(t, first)
			if (s1.err != nil) != firstFails {
				t.Fatalf("first plan: %v", s1.err)
			}
			r.waitSubmitted(t, 1)
			r.release(1, nil)
			s2 := answer(t, second)
			if s2.err != nil {
				t.Fatal(s2.err)
			}
			_, onN1 := s2.res.NodeAllocation["n1"]
			if firstFails == !onN1 || len(s2.res.NodeAllocation["n2"]) != 1 {
				t.Fatalf("second plan kept %v (first failed: %v)", s2.res.NodeAllocation, firstFails)
			}
			if !firstFails && s2.res.RefreshIndex < 4 {
				t.Fatalf("refresh index %d does not cover the first plan's commit", s2.res.RefreshIndex)
			}
			if got := r.snapshots.Load(); got != 3 {
				t.Fatalf("%d snapshots, want 3 (the second plan checked twice)", got)
			}
			checkNoOvercommit(t, st)
		})
	}
}

// A plan for a node where a committing plan updates an allocation in place
// waits for that commit: a failed update would leave the bigger version.
func TestPipelineWaitsBehindInPlaceUpdates(t *testing.T) {
	st, job, r, a, stop := pipelineFixture(t)
	defer stop()
	small := statetest.Alloc("a0", job, 0, "n1", "e0")
	small.AllocatedResources.Shared.Ports = nil
	if err := st.UpsertAllocs(4, []*structs.Allocation{bigAlloc("a0", job, 0, "n1", "e0")}); err != nil {
		t.Fatal(err)
	}
	r.index = 4
	// The first plan shrinks a0 from 3000 to 100 MHz in place.
	first := submitAsync(a, placePlan(job, "e1", small))
	r.waitSubmitted(t, 0)
	second := submitAsync(a, placePlan(job, "e2", bigAlloc("a2", job, 1, "n1", "e2")))
	deadline := time.Now().Add(10 * time.Second)
	for r.snapshots.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the second plan was never checked")
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline
	}
	r.release(0, errors.New("commit failed"))
	if s := answer(t, first); s.err == nil {
		t.Fatal("first plan: want its failure")
	}
	// Checked again against the state: a0 still takes 3000 MHz.
	s2 := answer(t, second)
	if s2.err != nil {
		t.Fatal(s2.err)
	}
	if len(s2.res.NodeAllocation) != 0 || s2.res.RefreshIndex == 0 {
		t.Fatalf("second plan kept %v", s2.res.NodeAllocation)
	}
	select {
	case n := <-r.submitted:
		t.Fatalf("submission %d of a plan with nothing to commit", n)
	default:
	}
	checkNoOvercommit(t, st)
}

// Leadership lost: Run returns only once the committing plans are answered.
func TestPipelineRunWaitsForCommits(t *testing.T) {
	_, job, r, a, stop := pipelineFixture(t)
	first := submitAsync(a, placePlan(job, "e1", bigAlloc("a1", job, 0, "n1", "e1")))
	r.waitSubmitted(t, 0)
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	r.release(0, nil)
	<-stopped
	if s := answer(t, first); s.err != nil || s.res.AllocIndex == 0 {
		t.Fatalf("first plan %+v %v", s.res, s.err)
	}
}
