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
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// ApplyFunc commits one Raft log entry and returns its index.
type ApplyFunc func(t fsm.MessageType, req any) (uint64, error)

// Applier serializes plan commits.
type Applier struct {
	apply ApplyFunc
	state func() *state.StateStore
	log   *slog.Logger
	now   func() time.Time
	queue chan *pendingPlan
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
	return &Applier{apply: apply, state: st, log: log, now: now, queue: make(chan *pendingPlan)}
}

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

// Run applies plans one at a time until ctx ends (leadership lost).
func (a *Applier) Run(ctx context.Context) {
	for {
		select {
		case p := <-a.queue:
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
	if len(result.NodeAllocation) == 0 && len(result.NodeUpdate) == 0 && plan.Deployment == nil && len(plan.DeploymentUpdates) == 0 {
		return result, nil
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
	result := &structs.PlanResult{
		NodeUpdate:     plan.NodeUpdate,
		NodeAllocation: map[string][]*structs.Allocation{},
	}
	rejected := map[string]string{}
	for nodeID, allocs := range plan.NodeAllocation {
		ok, reason, err := nodeFits(snap, plan, nodeID)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			rejected[nodeID] = reason
			continue
		}
		result.NodeAllocation[nodeID] = allocs
	}
	if len(rejected) > 0 {
		index, err := snap.LatestIndex()
		if err != nil {
			return nil, nil, err
		}
		result.RefreshIndex = index
	}
	return result, rejected, nil
}
