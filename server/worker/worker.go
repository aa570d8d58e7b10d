// Package worker runs on the leader: it takes evaluations from the broker,
// runs the scheduler on a snapshot of the state that is at least as new as
// the evaluation, submits the resulting plan, and acks (or nacks, for a
// redelivery) the evaluation.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/evalbroker"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/planapply"
	"github.com/drover-project/drover/server/scheduler"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// Config wires a worker to the leader's parts.
type Config struct {
	ID      int
	Broker  *evalbroker.Broker
	Blocked *evalbroker.Blocked
	State   func() *state.StateStore
	Planner *planapply.Applier
	Apply   planapply.ApplyFunc
	Logger  *slog.Logger
	// Now is the clock handed to the scheduler (time.Now when nil).
	Now func() time.Time
}

// Worker is one scheduling loop.
type Worker struct{ cfg Config }

// New returns a worker; Run starts it.
func New(cfg Config) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{cfg: cfg}
}

// snapshotWait bounds how long a worker waits for its state to catch up
// with an evaluation before giving it back.
const snapshotWait = 5 * time.Second

// Run processes evaluations until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	for {
		eval, token, err := w.cfg.Broker.Dequeue(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.cfg.Logger.Error("dequeue failed", "error", err)
			continue
		}
		log := w.cfg.Logger.With("eval_id", eval.ID, "job_id", eval.JobID)
		if err := w.process(ctx, eval, token); err != nil {
			if ctx.Err() != nil {
				return // leadership lost: the next leader redelivers
			}
			log.Error("evaluation failed; giving it back", "error", err)
			if err := w.cfg.Broker.Nack(eval.ID, token); err != nil {
				log.Warn("nack failed", "error", err)
			}
			continue
		}
		if err := w.cfg.Broker.Ack(eval.ID, token); err != nil {
			log.Warn("ack failed", "error", err)
		}
	}
}

func (w *Worker) process(ctx context.Context, eval *structs.Evaluation, token string) error {
	snap, err := w.snapshotAt(ctx, eval.ModifyIndex)
	if err != nil {
		return err
	}
	p := &planner{w: w, ctx: ctx, eval: eval}
	sched := scheduler.New(w.cfg.Logger, snapshotState{snap}, p, w.cfg.Now)
	return sched.Process(eval)
}

// snapshotAt waits until the state holds index, then snapshots it.
func (w *Worker) snapshotAt(ctx context.Context, index uint64) (*state.StateSnapshot, error) {
	if index == 0 {
		return w.cfg.State().Snapshot()
	}
	ctx, cancel := context.WithTimeout(ctx, snapshotWait)
	defer cancel()
	err := w.cfg.State().BlockingQuery(ctx, index-1, snapshotWait, func(_ memdb.WatchSet, s *state.StateStore) (uint64, error) {
		return s.LatestIndex()
	})
	if err != nil {
		return nil, fmt.Errorf("wait for state index %d: %w", index, err)
	}
	latest, err := w.cfg.State().LatestIndex()
	if err != nil {
		return nil, err
	}
	if latest < index {
		return nil, fmt.Errorf("state index %d still behind evaluation index %d", latest, index)
	}
	return w.cfg.State().Snapshot()
}

// planner is the scheduler's way out: plans go to the applier, evaluation
// updates go through Raft.
type planner struct {
	w    *Worker
	ctx  context.Context
	eval *structs.Evaluation
}

func (p *planner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	plan.EvalID = p.eval.ID
	res, err := p.w.cfg.Planner.Submit(p.ctx, plan)
	if err != nil {
		return nil, nil, err
	}
	if res.RefreshIndex == 0 {
		return res, nil, nil
	}
	snap, err := p.w.snapshotAt(p.ctx, res.RefreshIndex)
	if err != nil {
		return nil, nil, err
	}
	return res, snapshotState{snap}, nil
}

func (p *planner) UpdateEval(eval *structs.Evaluation) error {
	eval.ModifyTime = p.w.cfg.Now().UnixNano()
	_, err := p.w.cfg.Apply(fsm.EvalUpdate, &fsm.EvalUpdateRequest{Evals: []*structs.Evaluation{eval}})
	return err
}

func (p *planner) CreateEval(eval *structs.Evaluation) error {
	now := p.w.cfg.Now().UnixNano()
	eval.CreateTime, eval.ModifyTime = now, now
	index, err := p.w.cfg.Apply(fsm.EvalUpdate, &fsm.EvalUpdateRequest{Evals: []*structs.Evaluation{eval}})
	if err != nil {
		return err
	}
	if eval.Status == structs.EvalStatusBlocked {
		blocked := eval.Copy()
		blocked.CreateIndex, blocked.ModifyIndex = index, index
		p.w.cfg.Blocked.Block(blocked)
	}
	return nil
}

// snapshotState adapts a state snapshot to the scheduler's small interface.
type snapshotState struct{ s *state.StateSnapshot }

func (s snapshotState) JobByID(namespace, id string) (*structs.Job, error) {
	return s.s.JobByID(nil, namespace, id)
}

func (s snapshotState) AllocsByJob(namespace, jobID string) ([]*structs.Allocation, error) {
	return s.s.AllocsByJob(nil, namespace, jobID, true)
}

func (s snapshotState) AllocsByNode(nodeID string) ([]*structs.Allocation, error) {
	return s.s.AllocsByNode(nil, nodeID)
}

func (s snapshotState) Nodes() ([]*structs.Node, error) { return s.s.Nodes(nil) }

func (s snapshotState) NodeByID(id string) (*structs.Node, error) { return s.s.NodeByID(nil, id) }

// SchedulerConfig implements scheduler.ConfigState.
func (s snapshotState) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	return s.s.SchedulerConfig(nil)
}

// LatestDeploymentByJob implements scheduler.DeploymentState.
func (s snapshotState) LatestDeploymentByJob(namespace, jobID string) (*structs.Deployment, error) {
	return s.s.LatestDeploymentByJob(nil, namespace, jobID)
}
