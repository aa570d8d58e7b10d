// Package planapply is the leader's single writer of scheduling decisions.
// Workers plan in parallel against snapshots that may already be stale; the
// applier checks each plan, node by node, against the current state and
// commits only what still fits. A worker whose plan was cut short gets a
// refresh index and plans the rest again.
package planapply

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// ApplyFunc commits one Raft log entry and returns its index.
type ApplyFunc func(t fsm.MessageType, req any) (uint64, error)

// SubmitFunc hands one Raft log entry to Raft at once and returns a wait
// for its outcome (its index, or why it failed). Entries submitted one
// after another are committed in that order (raft.Apply's futures).
type SubmitFunc func(t fsm.MessageType, req any) (wait func() (uint64, error))

// Applier checks and commits plans. Plans are checked one at a time, in
// the order they arrive. Without Pipeline each is committed before the next
// is checked; with it, the next plan is checked and handed to Raft while
// the previous ones are still committing (see Pipeline).
type Applier struct {
	apply ApplyFunc
	state func() *state.StateStore
	log   *slog.Logger
	now   func() time.Time
	queue chan *pendingPlan

	// submit, when set, commits plans asynchronously (Pipeline).
	submit SubmitFunc
	// mu guards inflight: the plans handed to Raft and not yet answered,
	// oldest first.
	mu       sync.Mutex
	inflight []*flight
	// changed is signalled (without blocking) when a flight ends.
	changed chan struct{}
	// flights counts the goroutines waiting on commits, for Run to wait.
	flights sync.WaitGroup
}

// maxInflight bounds how many plans may be committing at once; a plan
// beyond it is checked once the oldest has been committed.
const maxInflight = 16

// flight is a plan handed to Raft whose commit has not been answered yet.
// Until it is, the plans checked after it count its placements as if they
// were in the state, since Raft commits them before anything submitted
// later.
type flight struct {
	// placed is what the plan places or updates, per node.
	placed map[string][]*structs.Allocation
	// inPlace marks the nodes where the plan changes allocations that
	// already exist (in-place updates).
	inPlace map[string]bool
}

type pendingPlan struct {
	plan   *structs.Plan
	result chan planResponse
}

type planResponse struct {
	result *structs.PlanResult
	err    error
}

// New returns an applier; Run must be going (on the leader) for Submit to answer.
func New(apply ApplyFunc, st func() *state.StateStore, log *slog.Logger, now func() time.Time) *Applier {
	return &Applier{apply: apply, state: st, log: log, now: now, queue: make(chan *pendingPlan), changed: make(chan struct{}, 1)}
}

// Pipeline makes the applier hand each plan to Raft with submit and check
// the next plan while it commits, instead of waiting for each commit
// (which takes 50-500 ms under load) before checking the next plan. Call it
// before Run; it must not be called while Run runs.
//
// It never lets a node be overcommitted: a plan is checked against the
// state plus the placements of every plan still committing (their stops
// are not counted until committed, so a commit that fails can only have
// made the check stricter). Two cases wait for the committing plans to
// finish and check the plan again against the state alone: a plan that
// places on a node where a committing plan updates allocations in place (an
// update may shrink an allocation, and counting the smaller size before it
// is committed would not be safe), and a plan that did not fit somewhere
// (the committing plans' stops may free room, and the worker's refresh
// index must cover them).
func (a *Applier) Pipeline(submit SubmitFunc) { a.submit = submit }

// Submit hands a plan to the applier and waits for what was committed.
func (a *Applier) Submit(ctx context.Context, plan *structs.Plan) (*structs.PlanResult, error) {
	p := &pendingPlan{plan: plan, result: make(chan planResponse, 1)}
	select {
	case a.queue <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-p.result:
		return r.result, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Run applies plans until ctx ends (leadership lost). It returns once the
// plans it handed to Raft have been answered.
func (a *Applier) Run(ctx context.Context) {
	defer a.flights.Wait()
	for {
		select {
		case p := <-a.queue:
			if a.submit != nil {
				a.pipelinePlan(ctx, p)
				continue
			}
			res, err := a.applyPlan(p.plan)
			if err != nil {
				a.log.Error("failed to apply plan", "eval_id", p.plan.EvalID, "error", err)
			}
			p.result <- planResponse{res, err}
		case <-ctx.Done():
			return
		}
	}
}

// pipelinePlan checks the plan against the state and the committing plans,
// hands what fits to Raft and answers the submitter once it is committed,
// without waiting for that here.
func (a *Applier) pipelinePlan(ctx context.Context, p *pendingPlan) {
	if !a.waitInflight(ctx, maxInflight-1) {
		p.result <- planResponse{nil, ctx.Err()}
		return
	}
	start := time.Now()
	// The committing plans are read before the snapshot: one that ends in
	// between is then counted twice (the same allocation IDs, so once),
	// never missed.
	flights := a.currentFlights()
	ev, err := a.evaluate(flights, p.plan)
	if err == nil && len(flights) > 0 && ev.dependsOn(flights, p.plan) {
		if !a.waitInflight(ctx, 0) {
			p.result <- planResponse{nil, ctx.Err()}
			return
		}
		ev, err = a.evaluate(nil, p.plan)
	}
	if err != nil {
		a.log.Error("failed to apply plan", "eval_id", p.plan.EvalID, "error", err)
		p.result <- planResponse{nil, err}
		return
	}
	req := a.request(p.plan, ev.result)
	if req == nil {
		p.result <- planResponse{ev.result, nil}
		return
	}
	// The submitter gets the result's map back; the flight keeps its own.
	f := &flight{placed: maps.Clone(ev.result.NodeAllocation), inPlace: ev.inPlace}
	a.mu.Lock()
	a.inflight = append(a.inflight, f)
	a.mu.Unlock()
	evaluated := time.Now()
	wait := a.submit(fsm.ApplyPlanResults, req)
	a.flights.Add(1)
	go func() {
		defer a.flights.Done()
		index, err := wait()
		a.land(f)
		if err != nil {
			err = fmt.Errorf("commit plan: %w", err)
			a.log.Error("failed to apply plan", "eval_id", p.plan.EvalID, "error", err)
			p.result <- planResponse{nil, err}
			return
		}
		a.log.Debug("plan committed", "eval_id", p.plan.EvalID, "allocs", len(req.AllocsUpdated), "stops", len(req.AllocsStopped),
			"evaluate", evaluated.Sub(start), "commit", time.Since(evaluated))
		ev.result.AllocIndex = index
		p.result <- planResponse{ev.result, nil}
	}()
}

// evaluation is a checked plan, with what pipelining needs to know of it.
type evaluation struct {
	result   *structs.PlanResult
	rejected map[string]string
	// inPlace marks the nodes where the plan updates existing allocations.
	inPlace map[string]bool
}

// dependsOn reports whether the check of plan relied on the committing
// plans in a way that is only safe once they are committed (see Pipeline).
func (ev *evaluation) dependsOn(flights []*flight, plan *structs.Plan) bool {
	if len(ev.rejected) > 0 {
		return true
	}
	for nodeID := range plan.NodeAllocation {
		for _, f := range flights {
			if f.inPlace[nodeID] {
				return true
			}
		}
	}
	return false
}

// evaluate checks the plan against a fresh snapshot plus the placements of
// flights.
func (a *Applier) evaluate(flights []*flight, plan *structs.Plan) (*evaluation, error) {
	snap, err := a.state().Snapshot()
	if err != nil {
		return nil, err
	}
	return evaluatePlanWith(snap, plan, flights)
}

func (a *Applier) currentFlights() []*flight {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*flight(nil), a.inflight...)
}

// land removes a flight whose commit was answered.
func (a *Applier) land(f *flight) {
	a.mu.Lock()
	for i, g := range a.inflight {
		if g == f {
			a.inflight = append(a.inflight[:i:i], a.inflight[i+1:]...)
			break
		}
	}
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// waitInflight waits until at most n plans are committing; false when ctx
// ended first.
func (a *Applier) waitInflight(ctx context.Context, n int) bool {
	for {
		a.mu.Lock()
		k := len(a.inflight)
		a.mu.Unlock()
		if k <= n {
			return true
		}
		select {
		case <-a.changed:
		case <-ctx.Done():
			return false
		}
	}
}

func (a *Applier) applyPlan(plan *structs.Plan) (*structs.PlanResult, error) {
	start := time.Now()
	snap, err := a.state().Snapshot()
	if err != nil {
		return nil, err
	}
	result, rejected, err := evaluatePlan(snap, plan)
	if err != nil {
		return nil, err
	}
	for nodeID, reason := range rejected {
		a.log.Debug("plan for node rejected", "eval_id", plan.EvalID, "node_id", nodeID, "reason", reason)
	}
	req := a.request(plan, result)
	if req == nil {
		return result, nil
	}
	evaluated := time.Now()
	index, err := a.apply(fsm.ApplyPlanResults, req)
	if err != nil {
		return nil, fmt.Errorf("commit plan: %w", err)
	}
	a.log.Debug("plan committed", "eval_id", plan.EvalID, "allocs", len(req.AllocsUpdated), "stops", len(req.AllocsStopped),
		"evaluate", evaluated.Sub(start), "commit", time.Since(evaluated))
	result.AllocIndex = index
	return result, nil
}

// request is the log entry that commits result, or nil when there is
// nothing to commit.
func (a *Applier) request(plan *structs.Plan, result *structs.PlanResult) *fsm.ApplyPlanResultsRequest {
	if len(result.NodeAllocation) == 0 && len(result.NodeUpdate) == 0 && plan.Deployment == nil && len(plan.DeploymentUpdates) == 0 {
		return nil
	}
	now := a.now().UnixNano()
	req := &fsm.ApplyPlanResultsRequest{Job: plan.Job, EvalID: plan.EvalID,
		Deployment: plan.Deployment, DeploymentUpdates: plan.DeploymentUpdates}
	for _, allocs := range result.NodeUpdate {
		for _, alloc := range allocs {
			alloc.ModifyTime = now
			req.AllocsStopped = append(req.AllocsStopped, alloc)
		}
	}
	for _, allocs := range result.NodeAllocation {
		for _, alloc := range allocs {
			if alloc.CreateTime == 0 {
				alloc.CreateTime = now
			}
			alloc.ModifyTime = now
			req.AllocsUpdated = append(req.AllocsUpdated, withoutPlanJob(alloc, plan.Job))
		}
	}
	return req
}

// withoutPlanJob returns the allocation as the log entry carries it: an
// allocation that points to the plan's job leaves it out (a shallow copy,
// so the scheduler's own allocation keeps its job), since the entry sends
// the job once and the state attaches it to every allocation without one.
// A plan of 5,000 placements then encodes, decodes and stores one job, not
// 5,000.
func withoutPlanJob(alloc *structs.Allocation, job *structs.Job) *structs.Allocation {
	if job == nil || alloc.Job != job {
		return alloc
	}
	c := *alloc
	c.Job = nil
	return &c
}

// evaluatePlan keeps the part of the plan that still fits the state.
// Stops always apply; placements are kept or dropped per node, and the
// dropped nodes come back with the reason.
func evaluatePlan(snap *state.StateSnapshot, plan *structs.Plan) (*structs.PlanResult, map[string]string, error) {
	ev, err := evaluatePlanWith(snap, plan, nil)
	if err != nil {
		return nil, nil, err
	}
	return ev.result, ev.rejected, nil
}

// evaluatePlanWith is evaluatePlan with the placements of the committing
// plans (flights, oldest first) counted on their nodes.
func evaluatePlanWith(snap *state.StateSnapshot, plan *structs.Plan, flights []*flight) (*evaluation, error) {
	ev := &evaluation{
		result: &structs.PlanResult{
			NodeUpdate:     plan.NodeUpdate,
			NodeAllocation: map[string][]*structs.Allocation{},
		},
		rejected: map[string]string{},
		inPlace:  map[string]bool{},
	}
	for nodeID, allocs := range plan.NodeAllocation {
		var pending []*structs.Allocation
		for _, f := range flights {
			pending = append(pending, f.placed[nodeID]...)
		}
		fit, err := nodeFitsWith(snap, plan, nodeID, pending)
		if err != nil {
			return nil, err
		}
		if !fit.ok {
			ev.rejected[nodeID] = fit.reason
			continue
		}
		ev.result.NodeAllocation[nodeID] = allocs
		if fit.inPlace {
			ev.inPlace[nodeID] = true
		}
	}
	if len(ev.rejected) > 0 {
		index, err := snap.LatestIndex()
		if err != nil {
			return nil, err
		}
		ev.result.RefreshIndex = index
	}
	return ev, nil
}
