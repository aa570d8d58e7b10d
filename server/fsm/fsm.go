// Package fsm is the raft state machine of a region: it decodes committed
// log entries and applies them to the state store, and writes and reads
// snapshots of that store.
//
// Like the state store, it never reads the clock, draws random numbers or
// makes IDs: endpoints fill those in before they propose an entry, so every
// server that applies the same log ends with the same state.
package fsm

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// ErrUnknownMessageType is returned by Apply for an entry whose type this
// server does not know.
//
// Types are only ever appended, so an unknown type means a newer server
// wrote the entry. Applying it is impossible and skipping it silently would
// let this server's state drift from the others', so Apply fails loudly:
// it logs at error level, changes nothing and returns this error (to the
// proposer, if it is this server). Upgrade every server before using a
// feature that adds a message type. Apply does not panic: a panic would
// recur on every replay of the log and keep the server down for good.
var ErrUnknownMessageType = errors.New("unknown raft message type")

// PanicError reports a panic caught while applying an entry. The
// transaction of that entry was aborted, so the state is as before it. It
// is a bug: fuzz tests fail on it.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("fsm: panic while applying: %v", e.Value) }

// FSM implements raft.FSM over a state store.
type FSM struct {
	logger *slog.Logger
	state  atomic.Pointer[state.StateStore]

	mu       sync.Mutex
	evalSink func([]*structs.Evaluation)
}

var _ raft.FSM = (*FSM)(nil)

// New returns an FSM over an empty state store. logger may be nil.
func New(logger *slog.Logger) *FSM {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	store, err := state.NewStateStore()
	if err != nil {
		// The schema is fixed at compile time and covered by tests.
		panic(fmt.Sprintf("fsm: invalid state schema: %v", err))
	}
	f := &FSM{logger: logger.With("component", "fsm")}
	f.state.Store(store)
	return f
}

// State returns the current state store. A restore replaces it (and
// closes the old one's AbandonCh), so hold it only for one request.
func (f *FSM) State() *state.StateStore { return f.state.Load() }

// SetEvalSink sets (or, with nil, clears) the function that receives the
// pending evaluations of each applied entry, after it is committed, as the
// state stored them. The leader points it at its evaluation broker. It is
// called on raft's apply goroutine, so it must not block.
func (f *FSM) SetEvalSink(sink func([]*structs.Evaluation)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.evalSink = sink
}

// Apply applies one committed entry. It returns the entry's index on
// success and an error otherwise; on error the state is unchanged.
func (f *FSM) Apply(l *raft.Log) any {
	evalIDs, err := f.apply(l)
	if err != nil {
		return err
	}
	f.notify(evalIDs)
	return l.Index
}

// apply decodes and applies the entry and returns the IDs of the
// evaluations it wrote.
func (f *FSM) apply(l *raft.Log) (ids []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			perr := &PanicError{Value: r, Stack: string(debug.Stack())}
			f.logger.Error("panic while applying a log entry", "index", l.Index, "panic", r, "stack", perr.Stack)
			ids, err = nil, perr
		}
	}()
	if len(l.Data) == 0 {
		err := fmt.Errorf("fsm: empty log entry at index %d", l.Index)
		f.logger.Error("cannot apply log entry", "index", l.Index, "error", err)
		return nil, err
	}
	t, body := MessageType(l.Data[0]), l.Data[1:]
	ids, err = f.dispatch(t, l.Index, body)
	switch {
	case errors.Is(err, ErrUnknownMessageType):
		f.logger.Error("log entry of an unknown type: a newer server wrote it; upgrade this server",
			"index", l.Index, "type", uint8(t))
	case errors.Is(err, errDecode):
		f.logger.Error("cannot decode log entry", "index", l.Index, "type", t, "error", err)
	case errors.Is(err, structs.ErrNotFound):
		f.logger.Debug("log entry refers to something missing", "index", l.Index, "type", t, "error", err)
	case err != nil:
		f.logger.Warn("log entry not applied", "index", l.Index, "type", t, "error", err)
	}
	return ids, err
}

// dispatch applies one body of the given type at index.
func (f *FSM) dispatch(t MessageType, index uint64, body []byte) ([]string, error) {
	store := f.State()
	switch t {
	case JobRegister:
		req, err := decode[JobRegisterRequest](t, body)
		if err != nil {
			return nil, err
		}
		// The request was decoded for this apply alone: hand it over.
		evals := optional(req.Eval)
		ids := evalIDs(evals)
		return ids, store.UpsertJobOwned(index, req.Job, evals...)

	case JobDeregister:
		req, err := decode[JobDeregisterRequest](t, body)
		if err != nil {
			return nil, err
		}
		evals := optional(req.Eval)
		if req.Purge {
			return evalIDs(evals), store.DeleteJob(index, req.Namespace, req.JobID, evals...)
		}
		return evalIDs(evals), store.StopJob(index, req.Namespace, req.JobID, evals...)

	case EvalUpdate:
		req, err := decode[EvalUpdateRequest](t, body)
		if err != nil {
			return nil, err
		}
		ids := evalIDs(req.Evals)
		return ids, store.UpsertEvalsOwned(index, req.Evals)

	case AllocClientUpdate:
		req, err := decode[AllocClientUpdateRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(req.Evals), store.UpdateAllocsFromClient(index, req.Allocs, req.Evals...)

	case ApplyPlanResults:
		req, err := decode[ApplyPlanResultsRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(req.Evals), store.UpsertPlanResults(index, req)

	case NodeRegister:
		req, err := decode[NodeRegisterRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(req.Evals), store.UpsertNode(index, req.Node, req.Evals...)

	case NodeUpdateStatus:
		req, err := decode[NodeUpdateStatusRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(req.Evals), store.UpdateNodeStatus(index, req.NodeID, req.Status, req.UpdatedAt, req.Evals...)

	case EvalDelete:
		req, err := decode[EvalDeleteRequest](t, body)
		if err != nil {
			return nil, err
		}
		return nil, store.DeleteEvals(index, req.Evals, req.Allocs)

	case AllocUpdateDesiredTransition:
		req, err := decode[AllocUpdateDesiredTransitionRequest](t, body)
		if err != nil {
			return nil, err
		}
		return evalIDs(req.Evals), store.UpdateAllocsDesiredTransitions(index, req.Allocs, req.Evals...)

	case SchedulerConfigSet:
		req, err := decode[SchedulerConfigSetRequest](t, body)
		if err != nil {
			return nil, err
		}
		return nil, store.SchedulerSetConfig(index, req.Config, req.CAS, req.Index)

	case JobStability:
		req, err := decode[JobStabilityRequest](t, body)
		if err != nil {
			return nil, err
		}
		return nil, store.SetJobStability(index, req.Namespace, req.JobID, req.JobVersion, req.Stable)

	case ServiceRegistrationUpsert, ServiceRegistrationDelete:
		return nil, applyServiceRegistrations(store, t, index, body) // services.go

	case DeploymentStatusUpdate, DeploymentPromote:
		return applyDeployment(store, t, index, body) // deployments.go

	case NodeUpdateDrain, NodeUpdateEligibility, NodeDeregister:
		return f.applyNodeDrain(t, index, body) // node_drain.go
	}
	return nil, fmt.Errorf("fsm: %w %d", ErrUnknownMessageType, uint8(t))
}

// errDecode marks entries whose body could not be decoded.
var errDecode = errors.New("cannot decode")

func decode[T any](t MessageType, body []byte) (*T, error) {
	var req T
	if err := jsondecode.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("fsm: %w %s: %w", errDecode, t, err)
	}
	if err := rejectNullElements(&req); err != nil {
		return nil, fmt.Errorf("fsm: %w %s: %w", errDecode, t, err)
	}
	return &req, nil
}

func optional(e *structs.Evaluation) []*structs.Evaluation {
	if e == nil {
		return nil
	}
	return []*structs.Evaluation{e}
}

func evalIDs(evals []*structs.Evaluation) []string {
	ids := make([]string, 0, len(evals))
	for _, e := range evals {
		if e != nil {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// notify hands the pending ones of the evaluations just written to the
// sink, as stored (with their indexes).
func (f *FSM) notify(ids []string) {
	f.mu.Lock()
	sink := f.evalSink
	f.mu.Unlock()
	if sink == nil || len(ids) == 0 {
		return
	}
	store := f.State()
	var pending []*structs.Evaluation
	for _, id := range ids {
		e, err := store.EvalByID(nil, id)
		if err != nil {
			f.logger.Error("cannot read an evaluation just written", "eval_id", id, "error", err)
			continue
		}
		if e != nil && e.Status == structs.EvalStatusPending {
			pending = append(pending, e)
		}
	}
	if len(pending) > 0 {
		sink(pending)
	}
}

// Snapshot captures the state at this point; raft persists it later,
// concurrently with further applies.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	snap, err := f.State().Snapshot()
	if err != nil {
		return nil, fmt.Errorf("fsm: snapshot: %w", err)
	}
	return &fsmSnapshot{snap: snap}, nil
}

// Restore replaces the state with the snapshot read from rc, all at once:
// on error the current state stays. The old store is abandoned, which wakes
// its blocking queries.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	store, err := state.NewStateStore()
	if err != nil {
		return fmt.Errorf("fsm: restore: %w", err)
	}
	r := store.Restore()
	if err := readSnapshot(rc, r); err != nil {
		r.Abort()
		f.logger.Error("cannot restore snapshot", "error", err)
		return err
	}
	r.Commit()
	old := f.state.Swap(store)
	old.Abandon(store)
	return nil
}
