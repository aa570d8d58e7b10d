package endpoints

import (
	"context"
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/structs"
)

// Garbage collection on the servers, as Nomad's core scheduler: finished
// evaluations and the finished allocations they placed are deleted once
// older than the evaluation threshold, stopped jobs with nothing left
// running once older than the job threshold, and nodes down with nothing
// left running once down longer than the node threshold. PUT /v1/system/gc runs it at
// once with no thresholds.

// GCThresholds says how old finished things must be to be collected.
type GCThresholds struct {
	Eval time.Duration
	Job  time.Duration
	Node time.Duration
}

// DefaultGCThresholds are Nomad's eval_gc_threshold, job_gc_threshold and
// node_gc_threshold.
var DefaultGCThresholds = GCThresholds{Eval: time.Hour, Job: 4 * time.Hour, Node: 24 * time.Hour}

// GCResult counts what a collection deleted.
type GCResult struct {
	Evals, Allocs, Jobs, Nodes int
}

func init() {
	rpcMethods["SystemGC"] = withArgs(func(ctx context.Context, e *Endpoints, _ *struct{}) (any, error) {
		return nil, e.SystemGC(ctx)
	})
}

// SystemGC collects everything finished now, whatever its age
// (PUT /v1/system/gc).
func (e *Endpoints) SystemGC(ctx context.Context) error {
	if ok, err := e.forward(ctx, "SystemGC", false, &struct{}{}, nil); ok {
		return err
	}
	_, err := e.CollectGarbage(GCThresholds{})
	return err
}

// CollectGarbage deletes what finished longer ago than the thresholds. It
// runs on the leader.
func (e *Endpoints) CollectGarbage(th GCThresholds) (GCResult, error) {
	var res GCResult
	now := e.now()
	store := e.d.State()
	jobs := map[[2]string]*structs.Job{}
	jobOf := func(ns, id string) (*structs.Job, error) {
		key := [2]string{ns, id}
		if j, ok := jobs[key]; ok {
			return j, nil
		}
		j, err := store.JobByID(nil, ns, id)
		jobs[key] = j
		return j, err
	}
	// An allocation is finished when its client says it ended and nothing
	// would run it again: the servers stopped it, or its job is gone or
	// stopped (a complete batch allocation of a live job is what tells the
	// scheduler the work is done).
	finished := func(a *structs.Allocation) (bool, error) {
		if !a.ClientTerminal() {
			return false, nil
		}
		if a.ServerTerminal() {
			return true, nil
		}
		j, err := jobOf(a.Namespace, a.JobID)
		return j == nil || j.Stopped(), err
	}

	evals, err := store.Evals(nil)
	if err != nil {
		return res, err
	}
	var evalIDs, allocIDs []string
	for _, ev := range evals {
		if !ev.Terminal() || now-ev.ModifyTime < th.Eval.Nanoseconds() {
			continue
		}
		allocs, err := store.AllocsByEval(nil, ev.ID)
		if err != nil {
			return res, err
		}
		all := true
		var ids []string
		for _, a := range allocs {
			ok, err := finished(a)
			if err != nil {
				return res, err
			}
			if !ok || now-a.ModifyTime < th.Eval.Nanoseconds() {
				all = false
				break
			}
			ids = append(ids, a.ID)
		}
		if all {
			evalIDs = append(evalIDs, ev.ID)
			allocIDs = append(allocIDs, ids...)
		}
	}
	if len(evalIDs)+len(allocIDs) > 0 {
		if _, err := e.d.Apply(fsm.EvalDelete, &fsm.EvalDeleteRequest{Evals: evalIDs, Allocs: allocIDs}); err != nil {
			return res, err
		}
		res.Evals, res.Allocs = len(evalIDs), len(allocIDs)
	}

	// Stopped jobs with nothing left: purged.
	all, err := store.Jobs(nil)
	if err != nil {
		return res, err
	}
	for _, j := range all {
		if !j.Stopped() || now-j.SubmitTime < th.Job.Nanoseconds() {
			continue
		}
		allocs, err := store.AllocsByJob(nil, j.Namespace, j.ID, true)
		if err != nil {
			return res, err
		}
		live := false
		for _, a := range allocs {
			live = live || !a.ClientTerminal()
		}
		jobEvals, err := store.EvalsByJob(nil, j.Namespace, j.ID)
		if err != nil {
			return res, err
		}
		for _, ev := range jobEvals {
			live = live || !ev.Terminal()
		}
		if live {
			continue
		}
		req := &fsm.EvalDeleteRequest{}
		for _, ev := range jobEvals {
			req.Evals = append(req.Evals, ev.ID)
		}
		for _, a := range allocs {
			req.Allocs = append(req.Allocs, a.ID)
		}
		if len(req.Evals)+len(req.Allocs) > 0 {
			if _, err := e.d.Apply(fsm.EvalDelete, req); err != nil {
				return res, err
			}
			res.Evals += len(req.Evals)
			res.Allocs += len(req.Allocs)
		}
		if _, err := e.d.Apply(fsm.JobDeregister, &fsm.JobDeregisterRequest{Namespace: j.Namespace, JobID: j.ID, Purge: true}); err != nil {
			return res, err
		}
		res.Jobs++
	}

	// Nodes down for long with nothing left on them: forgotten. One that
	// comes back registers again.
	nodes, err := store.Nodes(nil)
	if err != nil {
		return res, err
	}
	for _, n := range nodes {
		if n.Status != structs.NodeStatusDown || now-n.StatusUpdatedAt < th.Node.Nanoseconds() {
			continue
		}
		allocs, err := store.AllocsByNode(nil, n.ID)
		if err != nil {
			return res, err
		}
		live := false
		for _, a := range allocs {
			live = live || !a.Terminal()
		}
		if live {
			continue
		}
		if _, err := e.d.Apply(fsm.NodeDeregister, &fsm.NodeDeregisterRequest{NodeID: n.ID}); err != nil {
			return res, err
		}
		e.d.Heartbeats.Remove(n.ID)
		res.Nodes++
	}
	return res, nil
}
