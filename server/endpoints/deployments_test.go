package endpoints

import (
	"context"
	"errors"
	"testing"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// withDeployment stores job web at version 1 (version 0 stable, auto
// revert on) and a running deployment "dep-1" of version 1.
func withDeployment(t *testing.T, e *Endpoints) *structs.Job {
	t.Helper()
	v0 := statetest.Job("web")
	v0.TaskGroups[0].Update.AutoRevert = true
	mustApply(t, e, fsm.JobRegister, &fsm.JobRegisterRequest{Job: v0})
	mustApply(t, e, fsm.JobStability, &fsm.JobStabilityRequest{Namespace: v0.Namespace, JobID: v0.ID, JobVersion: 0, Stable: true})
	v1 := v0.Copy()
	v1.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "1"}
	mustApply(t, e, fsm.JobRegister, &fsm.JobRegisterRequest{Job: v1})
	job, _ := e.d.State().JobByID(nil, v1.Namespace, v1.ID)
	d := &structs.Deployment{ID: "dep-1", Namespace: job.Namespace, JobID: job.ID, JobVersion: job.Version,
		JobCreateIndex: job.CreateIndex, Status: structs.DeploymentStatusRunning,
		TaskGroups: map[string]*structs.DeploymentState{"web": {AutoRevert: true, DesiredTotal: 2}}}
	mustApply(t, e, fsm.ApplyPlanResults, &state.ApplyPlanResultsRequest{Job: job, Deployment: d})
	return job
}

func mustApply(t *testing.T, e *Endpoints, typ fsm.MessageType, req any) {
	t.Helper()
	if _, err := e.d.Apply(typ, req); err != nil {
		t.Fatal(err)
	}
}

func TestDeploymentWrites(t *testing.T) {
	e, _ := localServer(t)
	job := withDeployment(t, e)
	ctx := context.Background()

	if _, err := e.DeploymentWrite(ctx, &DeploymentWriteArgs{DeploymentID: "dep", Op: "promote", All: true}); !errors.Is(err, structs.ErrBadRequest) {
		t.Errorf("promote without canaries: %v, want a bad request", err)
	}
	if _, err := e.DeploymentWrite(ctx, &DeploymentWriteArgs{DeploymentID: "nope", Op: "fail"}); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("fail of an unknown deployment: %v, want not found", err)
	}
	if _, err := e.DeploymentWrite(ctx, &DeploymentWriteArgs{DeploymentID: "dep-1", Op: "pause"}); err != nil {
		t.Fatal(err)
	}
	d, _, err := e.DeploymentGet(ctx, nil, "dep-1")
	if err != nil || d.Status != structs.DeploymentStatusPaused {
		t.Fatalf("after pause: %+v, %v", d, err)
	}

	resp, err := e.DeploymentWrite(ctx, &DeploymentWriteArgs{DeploymentID: "dep-1", Op: "fail"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.RevertedJobVersion == nil || *resp.RevertedJobVersion != 0 || resp.EvalID == "" {
		t.Errorf("fail answered %+v, want a revert to version 0 with an evaluation", resp)
	}
	now, _ := e.d.State().JobByID(nil, job.Namespace, job.ID)
	if now.Version != job.Version+1 || now.TaskGroups[0].Tasks[0].Env["V"] != "" {
		t.Errorf("after the revert the job is version %d with env %v", now.Version, now.TaskGroups[0].Tasks[0].Env)
	}
	if _, err := e.DeploymentWrite(ctx, &DeploymentWriteArgs{DeploymentID: "dep-1", Op: "resume"}); !errors.Is(err, structs.ErrBadRequest) {
		t.Errorf("resume of a failed deployment: %v, want a bad request", err)
	}

	list, _, err := e.JobDeployments(ctx, nil, job.ID)
	if err != nil || len(list) != 1 || list[0].Status != structs.DeploymentStatusFailed {
		t.Errorf("job deployments: %+v, %v", list, err)
	}
}
