package scheduler

import (
	"fmt"
	"time"

	"github.com/drover-project/drover/structs"
)

// DeploymentState is implemented by a State that keeps deployments. Only
// then are destructive updates of service jobs rolled out as deployments
// (max_parallel at a time, canaries first); a State without it updates
// every allocation at once.
type DeploymentState interface {
	// LatestDeploymentByJob returns the job's newest deployment, or nil.
	LatestDeploymentByJob(namespace, jobID string) (*structs.Deployment, error)
}

// latestDeployment reads the job's newest deployment; ok is false when the
// state keeps none.
func latestDeployment(state State, namespace, jobID string) (d *structs.Deployment, ok bool, err error) {
	ds, ok := state.(DeploymentState)
	if !ok {
		return nil, false, nil
	}
	d, err = ds.LatestDeploymentByJob(namespace, jobID)
	if err != nil {
		return nil, true, fmt.Errorf("read deployment of job %q: %w", jobID, err)
	}
	return d, true, nil
}

// deployer decides, for one reconcile, how the job's deployment limits
// destructive updates and places canaries.
type deployer struct {
	job *structs.Job
	now time.Time
	// d is the deployment of the job's current version: the stored one, a
	// copy being changed, or a new one. Nil when there is none yet.
	d *structs.Deployment
	// newID names a deployment created by this reconcile.
	newID string
	// changed is set when d must be written with the plan.
	changed bool
	// updates change other deployments' status (cancel older ones).
	updates []*structs.DeploymentStatusUpdate
}

// newDeployer starts from the job's latest deployment: one of an older
// version, or of a stopped job, is cancelled.
func newDeployer(job *structs.Job, latest *structs.Deployment, newID string, now time.Time) *deployer {
	dp := &deployer{job: job, now: now, newID: newID}
	if latest == nil {
		return dp
	}
	sameVersion := job != nil && latest.JobVersion == job.Version && latest.JobCreateIndex == job.CreateIndex
	if latest.Active() && (job.Stopped() || !sameVersion) {
		desc := structs.DeploymentDescNewerJob
		if job.Stopped() {
			desc = structs.DeploymentDescStoppedJob
		}
		dp.updates = append(dp.updates, &structs.DeploymentStatusUpdate{
			DeploymentID: latest.ID, Status: structs.DeploymentStatusCancelled, StatusDescription: desc})
	}
	if sameVersion && !job.Stopped() {
		dp.d = latest.Copy()
	}
	return dp
}

// ensure returns the deployment of the current version, creating it.
func (dp *deployer) ensure() *structs.Deployment {
	if dp.d != nil {
		return dp.d
	}
	j := dp.job
	dp.d = &structs.Deployment{
		ID:                 dp.newID,
		Namespace:          j.Namespace,
		JobID:              j.ID,
		JobVersion:         j.Version,
		JobModifyIndex:     j.ModifyIndex,
		JobSpecModifyIndex: j.JobModifyIndex,
		JobCreateIndex:     j.CreateIndex,
		TaskGroups:         map[string]*structs.DeploymentState{},
		Status:             structs.DeploymentStatusRunning,
		StatusDescription:  structs.DeploymentDescRunning,
		EvalPriority:       j.Priority,
		CreateTime:         dp.now.UnixNano(),
		ModifyTime:         dp.now.UnixNano(),
	}
	dp.changed = true
	return dp.d
}

// groupState returns the group's state in the deployment, adding it.
func (dp *deployer) groupState(tg *structs.TaskGroup, canaries int) *structs.DeploymentState {
	d := dp.ensure()
	s := d.TaskGroups[tg.Name]
	if s == nil {
		u := tg.Update
		s = &structs.DeploymentState{
			AutoRevert:       u.AutoRevert,
			AutoPromote:      u.AutoPromote,
			ProgressDeadline: u.ProgressDeadline,
			DesiredCanaries:  canaries,
			DesiredTotal:     tg.Count,
		}
		if u.ProgressDeadline > 0 {
			s.RequireProgressBy = dp.now.Add(u.ProgressDeadline)
		}
		d.TaskGroups[tg.Name] = s
		if canaries > 0 && d.Status == structs.DeploymentStatusRunning {
			d.StatusDescription = structs.DeploymentDescRunningNeedsPromotion
			if u.AutoPromote {
				d.StatusDescription = structs.DeploymentDescRunningAutoPromotion
			}
		}
		dp.changed = true
	}
	return s
}

// waitingCanaries reports whether the group's canaries of the current
// deployment still wait for promotion; those canaries then stand beside
// the old allocations instead of taking their place.
func (dp *deployer) waitingCanaries(tg *structs.TaskGroup) bool {
	if dp.d == nil {
		return false
	}
	s := dp.d.TaskGroups[tg.Name]
	return s != nil && s.DesiredCanaries > 0 && !s.Promoted
}

// isCanaryOf reports whether a is a live canary of the current deployment.
func (dp *deployer) isCanaryOf(a *structs.Allocation) bool {
	return dp.d != nil && a.DeploymentID == dp.d.ID && a.DeploymentStatus.IsCanary() && !a.Terminal()
}

// rollGroup decides which of the group's destructive updates happen now.
// updates are the live allocations of an older version, lowest index
// first; canaries are the group's waiting canaries. It returns the
// placements to make: replacements and new canaries.
func (dp *deployer) rollGroup(tg *structs.TaskGroup, allocs []*structs.Allocation, updates []*structs.Allocation, canaries []*structs.Allocation) []placeRequest {
	u := tg.Update
	if len(updates) == 0 {
		return nil
	}
	d := dp.d
	if d == nil {
		d = dp.ensure()
	}
	if !d.Active() || d.Status == structs.DeploymentStatusPaused {
		return nil // a failed, cancelled or paused deployment updates nothing more
	}
	state := d.TaskGroups[tg.Name]
	if state == nil {
		state = dp.groupState(tg, min(u.Canary, tg.Count))
	}
	if state.DesiredCanaries > 0 && !state.Promoted {
		// Canaries first, named after the allocations they would replace.
		var out []placeRequest
		for i := len(canaries); i < state.DesiredCanaries && i < len(updates); i++ {
			out = append(out, placeRequest{group: tg, name: updates[i].Name, deploymentID: d.ID, canary: true})
		}
		return out
	}
	inFlight := 0
	for _, a := range allocs {
		if a.DeploymentID == d.ID && !a.ServerTerminal() && !a.Terminal() && !a.DeploymentStatus.IsHealthy() {
			inFlight++
		}
	}
	limit := max(u.MaxParallel-inFlight, 0)
	var out []placeRequest
	for _, a := range updates[:min(limit, len(updates))] {
		out = append(out, placeRequest{group: tg, name: a.Name, previous: a, deploymentID: d.ID,
			stopPrevious: &stopRequest{alloc: a, desc: descUpdating}})
	}
	return out
}

// adopt gives the group's placements that belong to no deployment (new
// instances, replacements of failed or lost ones) to the running
// deployment of the current version: they count toward its total.
func (dp *deployer) adopt(tg *structs.TaskGroup, places []placeRequest) {
	if dp.d == nil || !dp.d.Active() || dp.d.TaskGroups[tg.Name] == nil {
		return
	}
	for i := range places {
		if places[i].deploymentID == "" {
			places[i].deploymentID = dp.d.ID
		}
	}
}

// result is the deployment to write with the plan, if it changed.
func (dp *deployer) result() *structs.Deployment {
	if dp == nil || !dp.changed {
		return nil
	}
	return dp.d
}
