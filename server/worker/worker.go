// Package worker runs on the leader: it takes evaluations from the broker,
// runs the scheduler on a snapshot of the state that is at least as new as
// the evaluation, submits the resulting plan, and acks (or nacks, for a
// redelivery) the evaluation.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
//
// The evaluation's outcome (its final update, with the blocked evaluation
// it made) is the last thing the scheduler writes; the worker commits it
// and acks the evaluation from a goroutine of its own while it already
// dequeues and plans the next one, so one Raft round trip per evaluation
// is off the worker's path. The broker still sees the ack only once the
// outcome is committed (a nack if it is not), and a worker has at most one
// outcome in flight.
func (w *Worker) Run(ctx context.Context) {
	var finishing chan struct{}
	wait := func() {
		if finishing != nil {
			<-finishing
			finishing = nil
		}
	}
	defer wait()
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
		commit, err := w.process(ctx, eval, token)
		wait()
		if err != nil {
			if ctx.Err() != nil {
				return // leadership lost: the next leader redelivers
			}
			w.giveBack(eval, token, log, err)
			continue
		}
		done := make(chan struct{})
		finishing = done
		go func() {
			defer close(done)
			if err := commit(); err != nil {
				if ctx.Err() == nil {
					w.giveBack(eval, token, log, err)
				}
				return
			}
			if err := w.cfg.Broker.Ack(eval.ID, token); err != nil {
				log.Warn("ack failed", "error", err)
			}
		}()
	}
}

func (w *Worker) giveBack(eval *structs.Evaluation, token string, log *slog.Logger, err error) {
	log.Error("evaluation failed; giving it back", "error", err)
	if err := w.cfg.Broker.Nack(eval.ID, token); err != nil {
		log.Warn("nack failed", "error", err)
	}
}

// process runs the scheduler on the evaluation and returns the commit of
// its outcome (see Run).
func (w *Worker) process(ctx context.Context, eval *structs.Evaluation, token string) (commit func() error, err error) {
	start := time.Now()
	// Read before the snapshot: a capacity change after this point may be
	// missing from it, and a blocked evaluation must then be retried
	// rather than wait for a change that already happened (Blocked).
	generation := w.cfg.Blocked.Generation()
	snap, err := w.snapshotAt(ctx, eval.ModifyIndex)
	if err != nil {
		return nil, err
	}
	caughtUp := time.Now()
	p := &planner{w: w, ctx: ctx, eval: eval, generation: generation}
	sched := scheduler.New(w.cfg.Logger, snapshotState{snap}, p, w.cfg.Now)
	err = sched.Process(eval)
	// Where an evaluation's time goes, for profiling the scheduler at
	// scale (bench/scheduler): waiting for the state, then planning
	// including the plans' commits (of which submit is the part spent in
	// the plan applier).
	w.cfg.Logger.Debug("evaluation processed", "eval_id", eval.ID, "job_id", eval.JobID,
		"state_wait", caughtUp.Sub(start), "process", time.Since(caughtUp), "submit", p.submitted, "error", err)
	if err != nil {
		// A blocked evaluation not yet written with an update (the
		// scheduler stopped before its final UpdateEval) is written now,
		// as it would have been without the merge.
		if ferr := p.flushBlocked(); ferr != nil {
			w.cfg.Logger.Warn("create blocked evaluation", "eval_id", eval.ID, "error", ferr)
		}
		return nil, err
	}
	return p.commitOutcome, nil
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
	// blocked are blocked evaluations the scheduler created that are
	// written together with its next UpdateEval (or at the end of the
	// evaluation), so an evaluation that ends blocked costs one Raft entry
	// instead of two.
	blocked []*structs.Evaluation
	// generation is the blocked tracker's capacity generation read before
	// the scheduler's snapshot was taken.
	generation uint64
	// outcome is the evaluation's final update, committed with blocked by
	// commitOutcome once Process returns (Run).
	outcome *structs.Evaluation
	// submitted is the time spent in SubmitPlan, for the debug log.
	submitted time.Duration
}

func (p *planner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	plan.EvalID = p.eval.ID
	start := time.Now()
	res, err := p.w.cfg.Planner.Submit(p.ctx, plan)
	p.submitted += time.Since(start)
	if err != nil {
		return nil, nil, err
	}
	if res.RefreshIndex == 0 {
		return res, nil, nil
	}
	generation := p.w.cfg.Blocked.Generation()
	snap, err := p.w.snapshotAt(p.ctx, res.RefreshIndex)
	if err != nil {
		return nil, nil, err
	}
	p.generation = generation
	return res, snapshotState{snap}, nil
}

// UpdateEval records the evaluation's outcome: the scheduler calls it
// last, and the worker commits it (commitOutcome) after Process returns.
func (p *planner) UpdateEval(eval *structs.Evaluation) error {
	eval.ModifyTime = p.w.cfg.Now().UnixNano()
	p.outcome = eval
	return nil
}

// commitOutcome writes the outcome and the blocked evaluations in one Raft
// entry. The blocked evaluations go first: the update may name one of
// them as its BlockedEval.
func (p *planner) commitOutcome() error {
	blocked := p.takeBlocked()
	evals := blocked
	if p.outcome != nil {
		evals = append(slices.Clip(blocked), p.outcome)
	}
	if len(evals) == 0 {
		return nil
	}
	if err := p.applyEvals(evals, blocked); err != nil {
		return fmt.Errorf("update evaluation: %w", err)
	}
	return nil
}

func (p *planner) CreateEval(eval *structs.Evaluation) error {
	now := p.w.cfg.Now().UnixNano()
	eval.CreateTime, eval.ModifyTime = now, now
	if eval.Status == structs.EvalStatusBlocked {
		p.blocked = append(p.blocked, eval)
		return nil
	}
	return p.applyEvals([]*structs.Evaluation{eval}, nil)
}

// flushBlocked writes the blocked evaluations still waiting for an update.
func (p *planner) flushBlocked() error {
	if len(p.blocked) == 0 {
		return nil
	}
	blocked := p.takeBlocked()
	return p.applyEvals(blocked, blocked)
}

func (p *planner) takeBlocked() []*structs.Evaluation {
	b := p.blocked
	p.blocked = nil
	return b
}

// applyEvals writes evals in one Raft entry, then hands the created
// blocked ones (a part of evals) to the blocked-evaluation tracker with the
// index they were written at.
func (p *planner) applyEvals(evals, blocked []*structs.Evaluation) error {
	index, err := p.w.cfg.Apply(fsm.EvalUpdate, &fsm.EvalUpdateRequest{Evals: evals})
	if err != nil {
		return err
	}
	for _, e := range blocked {
		b := e.Copy()
		b.CreateIndex, b.ModifyIndex = index, index
		p.w.cfg.Blocked.BlockSince(b, p.generation)
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

// AllocsByNode and Nodes hand the scheduler the stored objects, not
// copies: it reads every node and the allocations of every node it ranks,
// and never modifies them (the State interface's contract).
func (s snapshotState) AllocsByNode(nodeID string) ([]*structs.Allocation, error) {
	return s.s.AllocsByNodeShared(nil, nodeID)
}

func (s snapshotState) Nodes() ([]*structs.Node, error) { return s.s.NodesShared() }

func (s snapshotState) NodeByID(id string) (*structs.Node, error) { return s.s.NodeByID(nil, id) }

// SchedulerConfig implements scheduler.ConfigState.
func (s snapshotState) SchedulerConfig() (*structs.SchedulerConfiguration, error) {
	return s.s.SchedulerConfig(nil)
}

// LatestDeploymentByJob implements scheduler.DeploymentState.
func (s snapshotState) LatestDeploymentByJob(namespace, jobID string) (*structs.Deployment, error) {
	return s.s.LatestDeploymentByJob(nil, namespace, jobID)
}
