// Package deploy moves deployments on. Its Watcher runs on the leader: as
// the allocations of a deployment become healthy it asks the scheduler for
// the next batch, it promotes canaries that promote themselves, it fails a
// deployment on unhealthy allocations or a missed progress deadline (and
// reverts the job to its last stable version when asked to), and it marks
// a deployment successful, and so its job version stable, when every
// allocation is healthy. The requests it builds are also the endpoints'
// (promote, fail, pause) so both act the same.
package deploy

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// EvalTriggerDeploymentWatcher marks evaluations the deployment machinery
// creates, as Nomad's.
const EvalTriggerDeploymentWatcher = "deployment-watcher"

// NewEval is a pending evaluation of the deployment's job.
func NewEval(job *structs.Job, now time.Time) *structs.Evaluation {
	return &structs.Evaluation{
		ID:             uuid.NewString(),
		Namespace:      job.Namespace,
		Priority:       job.Priority,
		Type:           job.Type,
		TriggeredBy:    EvalTriggerDeploymentWatcher,
		JobID:          job.ID,
		JobModifyIndex: job.JobModifyIndex,
		Status:         structs.EvalStatusPending,
		CreateTime:     now.UnixNano(),
		ModifyTime:     now.UnixNano(),
	}
}

// FailRequest fails the deployment with desc. When one of its groups
// asks for auto_revert (or revert is forced), the job goes back to its
// newest stable version older than the deployment's, registered as a new
// version with an evaluation.
func FailRequest(r *state.Reader, d *structs.Deployment, desc string, now time.Time) (*fsm.DeploymentStatusUpdateRequest, error) {
	req := &fsm.DeploymentStatusUpdateRequest{Update: &structs.DeploymentStatusUpdate{
		DeploymentID: d.ID, Status: structs.DeploymentStatusFailed, StatusDescription: desc}}
	if !autoRevert(d) {
		return req, nil
	}
	versions, err := r.JobVersions(nil, d.Namespace, d.JobID)
	if err != nil {
		return nil, err
	}
	var stable *structs.Job
	for _, v := range versions { // newest first
		if v.Stable && v.Version < d.JobVersion {
			stable = v
			break
		}
	}
	if stable == nil {
		req.Update.StatusDescription += structs.DeploymentDescRollbackNoStableSuffix
		return req, nil
	}
	req.Update.StatusDescription += fmt.Sprintf(structs.DeploymentDescRollbackSuffix, stable.Version)
	revert := stable.Copy()
	revert.Stable = false
	revert.SubmitTime = now.UnixNano()
	req.Job = revert
	req.Eval = NewEval(revert, now)
	return req, nil
}

func autoRevert(d *structs.Deployment) bool {
	for _, s := range d.TaskGroups {
		if s.AutoRevert {
			return true
		}
	}
	return false
}

// PromoteRequest promotes the canaries of all groups, or of the named
// ones, with an evaluation that places the rest.
func PromoteRequest(r *state.Reader, d *structs.Deployment, all bool, groups []string, now time.Time) (*fsm.DeploymentPromoteRequest, error) {
	if !d.Active() {
		return nil, structs.BadRequest(fmt.Errorf("deployment %q is %s: only an active deployment can be promoted", d.ID, d.Status))
	}
	if !all && len(groups) == 0 {
		return nil, structs.BadRequest(fmt.Errorf("promote: name the groups to promote or ask for all"))
	}
	has := false
	for name, s := range d.TaskGroups {
		if all || contains(groups, name) {
			if s.DesiredCanaries > 0 && !s.Promoted {
				has = true
			}
		}
	}
	for _, g := range groups {
		if d.TaskGroups[g] == nil {
			return nil, structs.BadRequest(fmt.Errorf("promote: deployment %q has no group %q", d.ID, g))
		}
	}
	if !has {
		return nil, structs.BadRequest(fmt.Errorf("deployment %q has no canaries to promote", d.ID))
	}
	job, err := r.JobByID(nil, d.Namespace, d.JobID)
	if err != nil {
		return nil, err
	}
	if job == nil {
		return nil, structs.NotFound(fmt.Errorf("job %q of deployment %q not found", d.JobID, d.ID))
	}
	return &fsm.DeploymentPromoteRequest{
		Promote: &structs.DeploymentPromoteRequest{DeploymentID: d.ID, All: all, Groups: groups},
		Eval:    NewEval(job, now),
	}, nil
}

// PauseRequest pauses or resumes an active deployment.
func PauseRequest(r *state.Reader, d *structs.Deployment, pause bool, now time.Time) (*fsm.DeploymentStatusUpdateRequest, error) {
	if !d.Active() {
		return nil, structs.BadRequest(fmt.Errorf("deployment %q is %s: only an active deployment can be paused or resumed", d.ID, d.Status))
	}
	u := &structs.DeploymentStatusUpdate{DeploymentID: d.ID, Status: structs.DeploymentStatusPaused, StatusDescription: structs.DeploymentDescPaused}
	req := &fsm.DeploymentStatusUpdateRequest{Update: u}
	if pause {
		return req, nil
	}
	u.Status, u.StatusDescription = structs.DeploymentStatusRunning, structs.DeploymentDescRunning
	if d.RequiresPromotion() {
		u.StatusDescription = structs.DeploymentDescRunningNeedsPromotion
	}
	job, err := r.JobByID(nil, d.Namespace, d.JobID)
	if err != nil {
		return nil, err
	}
	if job != nil {
		req.Eval = NewEval(job, now)
	}
	return req, nil
}

// UnblockRequest marks a blocked deployment successful.
func UnblockRequest(d *structs.Deployment) (*fsm.DeploymentStatusUpdateRequest, error) {
	if d.Status != structs.DeploymentStatusBlocked {
		return nil, structs.BadRequest(fmt.Errorf("deployment %q is %s: only a blocked deployment can be unblocked", d.ID, d.Status))
	}
	return &fsm.DeploymentStatusUpdateRequest{Update: &structs.DeploymentStatusUpdate{
		DeploymentID: d.ID, Status: structs.DeploymentStatusSuccessful, StatusDescription: structs.DeploymentDescUnblocked}}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
