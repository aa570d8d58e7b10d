package deploy

import (
	"context"
	"log/slog"
	"time"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// ApplyFunc commits a request through Raft (the server's apply).
type ApplyFunc func(t fsm.MessageType, req any) (uint64, error)

// Config configures a Watcher.
type Config struct {
	State func() *state.StateStore
	Apply ApplyFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Interval is how often Run looks at the deployments; 0 means 500ms.
	Interval time.Duration
	Logger   *slog.Logger
}

// Watcher moves the active deployments on. It runs on the leader only.
type Watcher struct {
	cfg Config
	// healthy remembers, per deployment, how many healthy allocations it
	// had when last looked at: a change asks the scheduler for more.
	healthy map[string]int
}

// NewWatcher returns a watcher.
func NewWatcher(cfg Config) *Watcher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval == 0 {
		cfg.Interval = 500 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watcher{cfg: cfg, healthy: map[string]int{}}
}

// Run checks the deployments every Interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		if err := w.Step(); err != nil {
			w.cfg.Logger.Warn("deployment watcher", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step looks at every active deployment once.
func (w *Watcher) Step() error {
	store := w.cfg.State()
	ds, err := store.Deployments(nil)
	if err != nil {
		return err
	}
	now := w.cfg.Now()
	seen := map[string]bool{}
	for _, d := range ds {
		if d.Status != structs.DeploymentStatusRunning {
			continue
		}
		seen[d.ID] = true
		if err := w.watch(&store.Reader, d, now); err != nil {
			return err
		}
	}
	for id := range w.healthy {
		if !seen[id] {
			delete(w.healthy, id)
		}
	}
	return nil
}

// groupProgress is what the allocations of one group say.
type groupProgress struct {
	healthy, unhealthy, healthyCanaries int
}

func (w *Watcher) watch(r *state.Reader, d *structs.Deployment, now time.Time) error {
	job, err := r.JobByID(nil, d.Namespace, d.JobID)
	if err != nil {
		return err
	}
	if job == nil {
		// A purged job has no scheduler run left to cancel its deployment.
		_, err := w.cfg.Apply(fsm.DeploymentStatusUpdate, &fsm.DeploymentStatusUpdateRequest{Update: &structs.DeploymentStatusUpdate{
			DeploymentID: d.ID, Status: structs.DeploymentStatusCancelled, StatusDescription: structs.DeploymentDescStoppedJob}})
		return err
	}
	if job.Version != d.JobVersion {
		return nil // the scheduler cancels deployments of older versions
	}
	allocs, err := r.AllocsByJob(nil, d.Namespace, d.JobID, false)
	if err != nil {
		return err
	}
	progress := map[string]*groupProgress{}
	total := 0
	for _, a := range allocs {
		if a.DeploymentID != d.ID || a.ServerTerminal() {
			continue
		}
		p := progress[a.TaskGroup]
		if p == nil {
			p = &groupProgress{}
			progress[a.TaskGroup] = p
		}
		switch {
		case a.DeploymentStatus.IsHealthy():
			p.healthy++
			total++
			if a.DeploymentStatus.IsCanary() {
				p.healthyCanaries++
			}
		case a.DeploymentStatus.IsUnhealthy():
			p.unhealthy++
		}
	}

	for _, p := range progress {
		if p.unhealthy > 0 {
			return w.fail(r, d, structs.DeploymentDescFailedAllocations, now)
		}
	}
	complete, canariesReady := true, true
	for name, s := range d.TaskGroups {
		p := progress[name]
		if p == nil {
			p = &groupProgress{}
		}
		waiting := s.DesiredCanaries > 0 && !s.Promoted
		if waiting && p.healthyCanaries < s.DesiredCanaries {
			canariesReady = false
		}
		done := !waiting && p.healthy >= s.DesiredTotal
		if !done {
			complete = false
		}
		// Healthy canaries waiting for a person to promote them are not
		// late.
		idle := waiting && p.healthyCanaries >= s.DesiredCanaries
		if !done && !idle && s.ProgressDeadline > 0 && !s.RequireProgressBy.IsZero() && now.After(s.RequireProgressBy) {
			return w.fail(r, d, structs.DeploymentDescProgressDeadline, now)
		}
	}
	if complete {
		_, err := w.cfg.Apply(fsm.DeploymentStatusUpdate, &fsm.DeploymentStatusUpdateRequest{Update: &structs.DeploymentStatusUpdate{
			DeploymentID: d.ID, Status: structs.DeploymentStatusSuccessful, StatusDescription: structs.DeploymentDescSuccessful}})
		if err == nil {
			w.cfg.Logger.Info("deployment successful", "deployment_id", d.ID, "job_id", d.JobID, "version", d.JobVersion)
		}
		return err
	}
	if d.RequiresPromotion() && d.HasAutoPromote() && canariesReady {
		req, err := PromoteRequest(r, d, true, nil, now)
		if err != nil {
			return err
		}
		_, err = w.cfg.Apply(fsm.DeploymentPromote, req)
		return err
	}
	if last, ok := w.healthy[d.ID]; !ok || last != total {
		// More healthy allocations make room for the next batch.
		if _, err := w.cfg.Apply(fsm.EvalUpdate, &fsm.EvalUpdateRequest{Evals: []*structs.Evaluation{NewEval(job, now)}}); err != nil {
			return err
		}
		w.healthy[d.ID] = total
	}
	return nil
}

func (w *Watcher) fail(r *state.Reader, d *structs.Deployment, desc string, now time.Time) error {
	req, err := FailRequest(r, d, desc, now)
	if err != nil {
		return err
	}
	w.cfg.Logger.Info("deployment failed", "deployment_id", d.ID, "job_id", d.JobID, "reason", req.Update.StatusDescription)
	_, err = w.cfg.Apply(fsm.DeploymentStatusUpdate, req)
	return err
}
