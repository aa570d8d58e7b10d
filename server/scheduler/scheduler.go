// Package scheduler is pure placement policy. Given an evaluation and a
// read-only view of the cluster, it decides which allocations of the job to
// stop and where to place new ones, and hands that decision to a Planner as
// a structs.Plan. It never writes state itself, so it can run on any server
// against a snapshot and be tested without Raft, a network or a clock.
//
// One run goes: reconcile each task group (what to stop, what to place),
// then for every placement filter the nodes that could ever run the group,
// check what still fits on them, rank the fitting ones by bin packing, and
// pick the best. The plan is submitted; when the planner commits only part
// of it, the run starts over on the fresher state it is given.
package scheduler

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/structs"
)

// State is the read-only view of the cluster the scheduler plans against.
// Implementations return objects the scheduler may read but never mutates.
type State interface {
	// JobByID returns the job, or nil and no error when it does not exist.
	JobByID(namespace, id string) (*structs.Job, error)
	// AllocsByJob returns every allocation of the job, terminal ones too.
	AllocsByJob(namespace, jobID string) ([]*structs.Allocation, error)
	// AllocsByNode returns every allocation on the node, terminal ones too.
	AllocsByNode(nodeID string) ([]*structs.Allocation, error)
	// Nodes returns every node; the scheduler picks the ready ones.
	Nodes() ([]*structs.Node, error)
	// NodeByID returns the node, or nil and no error when it does not exist.
	NodeByID(id string) (*structs.Node, error)
}

// Planner is the scheduler's way out.
type Planner interface {
	// SubmitPlan commits what still fits. newState is non-nil when part of
	// the plan was not committed and the scheduler must plan the rest again
	// against that state.
	SubmitPlan(plan *structs.Plan) (result *structs.PlanResult, newState State, err error)
	// UpdateEval records the evaluation's outcome.
	UpdateEval(eval *structs.Evaluation) error
	// CreateEval records a new evaluation, such as a blocked one.
	CreateEval(eval *structs.Evaluation) error
}

// Scheduler processes one evaluation at a time.
type Scheduler interface {
	Process(eval *structs.Evaluation) error
}

// ErrUnsupportedJobType is returned by Process for job types it does not
// know.
var ErrUnsupportedJobType = errors.New("scheduler: unsupported job type")

// maxPlanAttempts bounds how often one evaluation re-plans after partial
// commits before it is marked failed.
const maxPlanAttempts = 5

// New returns the scheduler for every job type. Process rejects
// evaluations of other types with ErrUnsupportedJobType.
func New(logger *slog.Logger, state State, planner Planner, clock func() time.Time) Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = time.Now
	}
	return &genericScheduler{log: logger, state: state, planner: planner, clock: clock}
}

// genericScheduler serves every job type. Service and batch jobs differ
// only in how terminal allocations are reconciled, which reconcile
// decides; system and sysbatch jobs are planned node by node (system.go).
type genericScheduler struct {
	log     *slog.Logger
	state   State
	planner Planner
	clock   func() time.Time
}

// Process reconciles the evaluation's job with its allocations, submits the
// plan and records the outcome on the evaluation. Processing the same
// evaluation again against the resulting state plans nothing new, since the
// broker may deliver an evaluation more than once.
func (s *genericScheduler) Process(eval *structs.Evaluation) error {
	compute := s.computePlan
	switch eval.Type {
	case structs.JobTypeService, structs.JobTypeBatch:
	case structs.JobTypeSystem, structs.JobTypeSysBatch:
		compute = s.computeSystemPlan
	default:
		return fmt.Errorf("%w %q (evaluation %s)", ErrUnsupportedJobType, eval.Type, eval.ID)
	}
	log := s.log.With("eval_id", eval.ID, "job_id", eval.JobID)

	// The random source is seeded from the evaluation ID: node order and
	// dynamic ports vary between evaluations yet a run can be replayed.
	rng := rand.New(rand.NewPCG(seedOf(eval.ID), 0))
	state := s.state
	placed, stopped := 0, 0
	for attempt := 1; attempt <= maxPlanAttempts; attempt++ {
		out, err := compute(eval, state, rng)
		if err != nil {
			return err
		}
		// A dry run submits even an empty plan: its annotations are the answer.
		if out.plan.IsNoOp() && !eval.AnnotatePlan {
			return s.finish(eval, out, placed, stopped)
		}
		result, newState, err := s.planner.SubmitPlan(out.plan)
		if err != nil {
			return fmt.Errorf("submit plan: %w", err)
		}
		if result == nil {
			return errors.New("submit plan: planner returned no result")
		}
		placed += countAllocs(result.NodeAllocation)
		stopped += countAllocs(result.NodeUpdate)
		if len(out.preempted) > 0 {
			if err := s.preemptedEvals(eval, out.preempted, state); err != nil {
				return err
			}
		}
		if newState == nil {
			if !result.FullCommit(out.plan) {
				// Planning again against the old state would place twice
				// what was committed; a redelivery starts from fresh state.
				return errors.New("submit plan: partially committed without a state to plan the rest against")
			}
			return s.finish(eval, out, placed, stopped)
		}
		// Part of the plan no longer fit (another plan took the room):
		// plan again against the state that holds what was committed,
		// which leaves only the rest to do.
		state = newState
		log.Debug("plan partially committed; planning the rest again", "attempt", attempt)
	}
	failed := eval.Copy()
	failed.Status = structs.EvalStatusFailed
	failed.StatusDescription = fmt.Sprintf("maximum attempts reached (%d)", maxPlanAttempts)
	failed.ModifyTime = s.clock().UnixNano()
	log.Warn("evaluation failed", "reason", failed.StatusDescription)
	if err := s.planner.UpdateEval(failed); err != nil {
		return fmt.Errorf("update evaluation: %w", err)
	}
	return nil
}

// finish records the outcome: the groups that could not be placed, a
// blocked evaluation to retry them when capacity appears, and the status.
func (s *genericScheduler) finish(eval *structs.Evaluation, out *outcome, placed, stopped int) error {
	done := eval.Copy()
	done.Status = structs.EvalStatusComplete
	done.QueuedAllocations = out.queued
	done.FailedTGAllocs = nil
	if len(out.failed) > 0 {
		done.FailedTGAllocs = out.failed
		// A redelivered evaluation that already made its blocked
		// evaluation does not make another. System jobs need none: a node
		// that joins or changes triggers their evaluation.
		if done.BlockedEval == "" && !isSystemType(eval.Type) {
			blocked := s.blockedEval(eval)
			if err := s.planner.CreateEval(blocked); err != nil {
				return fmt.Errorf("create blocked evaluation: %w", err)
			}
			done.BlockedEval = blocked.ID
		}
	}
	// Failed allocations waiting out their reschedule delay come back with
	// an evaluation due when the first of them is.
	// (Not linked as NextEval, which `job run` would wait for.)
	if !out.followup.IsZero() {
		if err := s.planner.CreateEval(s.followupEval(eval, out.followup)); err != nil {
			return fmt.Errorf("create follow-up evaluation: %w", err)
		}
	}
	done.StatusDescription = out.summary(placed, stopped)
	done.ModifyTime = s.clock().UnixNano()
	if err := s.planner.UpdateEval(done); err != nil {
		return fmt.Errorf("update evaluation: %w", err)
	}
	return nil
}

// blockedEval is the follow-up that the broker holds until capacity may
// have appeared (a node joined, an allocation stopped).
func (s *genericScheduler) blockedEval(eval *structs.Evaluation) *structs.Evaluation {
	now := s.clock().UnixNano()
	return &structs.Evaluation{
		ID:                uuid.NewString(),
		Namespace:         eval.Namespace,
		Priority:          eval.Priority,
		Type:              eval.Type,
		TriggeredBy:       structs.EvalTriggerQueuedAllocs,
		JobID:             eval.JobID,
		JobModifyIndex:    eval.JobModifyIndex,
		Status:            structs.EvalStatusBlocked,
		StatusDescription: "created to place remaining allocations",
		PreviousEval:      eval.ID,
		CreateTime:        now,
		ModifyTime:        now,
	}
}

func countAllocs(byNode map[string][]*structs.Allocation) int {
	n := 0
	for _, allocs := range byNode {
		n += len(allocs)
	}
	return n
}

func seedOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
