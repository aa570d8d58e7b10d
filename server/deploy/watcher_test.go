package deploy

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// cluster is an FSM the watcher writes through, as through Raft.
type cluster struct {
	t     *testing.T
	f     *fsm.FSM
	index uint64
	now   time.Time
	w     *Watcher
}

func newCluster(t *testing.T) *cluster {
	c := &cluster{t: t, f: fsm.New(nil), now: time.Unix(1_700_000_000, 0)}
	c.w = NewWatcher(Config{State: c.f.State, Apply: c.apply, Now: func() time.Time { return c.now }})
	return c
}

func (c *cluster) apply(t fsm.MessageType, req any) (uint64, error) {
	data, err := fsm.Encode(t, req)
	if err != nil {
		return 0, err
	}
	c.index++
	if err, ok := c.f.Apply(&raft.Log{Index: c.index, Type: raft.LogCommand, Data: data}).(error); ok {
		return 0, err
	}
	return c.index, nil
}

func (c *cluster) must(t fsm.MessageType, req any) {
	c.t.Helper()
	if _, err := c.apply(t, req); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) step() {
	c.t.Helper()
	if err := c.w.Step(); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) deployment(id string) *structs.Deployment {
	c.t.Helper()
	d, err := c.f.State().DeploymentByID(nil, id)
	if err != nil || d == nil {
		c.t.Fatalf("deployment %s: %v", id, err)
	}
	return d
}

// setup registers version 0 (marked stable) and version 1 of a job with a
// deployment of version 1 that placed two allocations.
func setup(t *testing.T, autoRevert bool) (*cluster, *structs.Job, []*structs.Allocation) {
	c := newCluster(t)
	v0 := statetest.Job("web")
	c.must(fsm.JobRegister, &fsm.JobRegisterRequest{Job: v0})
	c.must(fsm.JobStability, &fsm.JobStabilityRequest{Namespace: v0.Namespace, JobID: v0.ID, JobVersion: 0, Stable: true})
	v1 := v0.Copy()
	v1.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "1"}
	v1.TaskGroups[0].Update.AutoRevert = autoRevert
	c.must(fsm.JobRegister, &fsm.JobRegisterRequest{Job: v1})
	job, _ := c.f.State().JobByID(nil, v1.Namespace, v1.ID)
	d := &structs.Deployment{ID: "d1", Namespace: job.Namespace, JobID: job.ID, JobVersion: job.Version, JobCreateIndex: job.CreateIndex,
		Status: structs.DeploymentStatusRunning, TaskGroups: map[string]*structs.DeploymentState{"web": {
			AutoRevert: autoRevert, DesiredTotal: 2, ProgressDeadline: time.Minute, RequireProgressBy: c.now.Add(time.Minute)}}}
	var allocs []*structs.Allocation
	for i := range 2 {
		a := statetest.Alloc([]string{"a0", "a1"}[i], job, i, "n1", "e1")
		a.DeploymentID = d.ID
		allocs = append(allocs, a)
	}
	c.must(fsm.ApplyPlanResults, &state.ApplyPlanResultsRequest{Job: job, Deployment: d, AllocsUpdated: allocs})
	return c, job, allocs
}

func (c *cluster) reportHealth(a *structs.Allocation, healthy bool) {
	c.t.Helper()
	c.must(fsm.AllocClientUpdate, &fsm.AllocClientUpdateRequest{Allocs: []*structs.Allocation{{
		ID: a.ID, ClientStatus: structs.AllocClientStatusRunning,
		DeploymentStatus: &structs.AllocDeploymentStatus{Healthy: &healthy, Timestamp: c.now}}}})
}

func (c *cluster) pendingEvals() int {
	evals, _ := c.f.State().Evals(nil)
	n := 0
	for _, e := range evals {
		if e.TriggeredBy == EvalTriggerDeploymentWatcher {
			n++
		}
	}
	return n
}

func TestHealthyAllocationsCompleteTheDeployment(t *testing.T) {
	c, job, allocs := setup(t, false)
	c.step()
	if d := c.deployment("d1"); d.Status != structs.DeploymentStatusRunning || d.TaskGroups["web"].PlacedAllocs != 2 {
		t.Fatalf("deployment %+v", d)
	}
	before := c.pendingEvals()
	c.reportHealth(allocs[0], true)
	c.step()
	if c.pendingEvals() != before+1 {
		t.Errorf("a newly healthy allocation made %d evaluations, want 1 more", c.pendingEvals()-before)
	}
	if got := c.deployment("d1").TaskGroups["web"].HealthyAllocs; got != 1 {
		t.Errorf("HealthyAllocs %d, want 1", got)
	}
	c.reportHealth(allocs[1], true)
	c.step()
	if d := c.deployment("d1"); d.Status != structs.DeploymentStatusSuccessful || d.StatusDescription != structs.DeploymentDescSuccessful {
		t.Fatalf("deployment %s (%s), want successful", d.Status, d.StatusDescription)
	}
	v, _ := c.f.State().JobByIDAndVersion(nil, job.Namespace, job.ID, job.Version)
	if !v.Stable {
		t.Error("a successful deployment did not mark its job version stable")
	}
}

func TestUnhealthyAllocationFailsAndReverts(t *testing.T) {
	c, job, allocs := setup(t, true)
	c.reportHealth(allocs[0], false)
	c.step()
	d := c.deployment("d1")
	if d.Status != structs.DeploymentStatusFailed || d.StatusDescription != "Failed due to unhealthy allocations - rolling back to job version 0" {
		t.Fatalf("deployment %s (%q)", d.Status, d.StatusDescription)
	}
	now, _ := c.f.State().JobByID(nil, job.Namespace, job.ID)
	if now.Version != job.Version+1 || now.TaskGroups[0].Tasks[0].Env["V"] != "" || now.Stable {
		t.Errorf("after the revert: version %d env %v stable %v, want a new unstable version equal to 0", now.Version, now.TaskGroups[0].Tasks[0].Env, now.Stable)
	}
}

func TestProgressDeadlineFailsWithoutRevert(t *testing.T) {
	c, job, allocs := setup(t, false)
	c.reportHealth(allocs[0], true)
	c.step()
	c.now = c.now.Add(59 * time.Second)
	c.step()
	if d := c.deployment("d1"); d.Status != structs.DeploymentStatusRunning {
		t.Fatalf("failed before its deadline: %s", d.StatusDescription)
	}
	// Healthy at +0 moved the deadline to +60s; past it nothing more came.
	c.now = c.now.Add(2 * time.Second)
	c.step()
	if d := c.deployment("d1"); d.Status != structs.DeploymentStatusFailed || d.StatusDescription != structs.DeploymentDescProgressDeadline {
		t.Fatalf("deployment %s (%q), want failed on its deadline", d.Status, d.StatusDescription)
	}
	if now, _ := c.f.State().JobByID(nil, job.Namespace, job.ID); now.Version != job.Version {
		t.Error("reverted without auto_revert")
	}
}

func TestAutoPromoteWhenCanariesHealthy(t *testing.T) {
	c, job, _ := setup(t, false)
	d := c.deployment("d1")
	d.TaskGroups["web"].DesiredCanaries, d.TaskGroups["web"].AutoPromote = 1, true
	canary := statetest.Alloc("c0", job, 0, "n1", "e2")
	canary.DeploymentID = d.ID
	canary.DeploymentStatus = &structs.AllocDeploymentStatus{Canary: true}
	c.must(fsm.ApplyPlanResults, &state.ApplyPlanResultsRequest{Job: job, Deployment: d, AllocsUpdated: []*structs.Allocation{canary}})
	c.step()
	if got := c.deployment("d1").TaskGroups["web"]; got.Promoted || len(got.PlacedCanaries) != 1 {
		t.Fatalf("before the canary is healthy: %+v", got)
	}
	c.reportHealth(canary, true)
	c.step()
	if !c.deployment("d1").TaskGroups["web"].Promoted {
		t.Fatal("healthy canaries with auto_promote were not promoted")
	}
}

func TestPurgedJobCancelsItsDeployment(t *testing.T) {
	c, job, _ := setup(t, false)
	c.must(fsm.JobDeregister, &fsm.JobDeregisterRequest{Namespace: job.Namespace, JobID: job.ID, Purge: true})
	c.step()
	if d := c.deployment("d1"); d.Status != structs.DeploymentStatusCancelled {
		t.Fatalf("deployment of a purged job is %s", d.Status)
	}
}
