package scheduler_test

import (
	"testing"
	"time"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// markHealthy reports every live allocation of the current deployment
// healthy, as the client would.
func markHealthy(h *st.Harness, deploymentID string) {
	yes := true
	for _, a := range h.State.LiveAllocs() {
		if a.DeploymentID == deploymentID && !a.DeploymentStatus.HasHealth() {
			c := a.Copy()
			c.ClientStatus = structs.AllocClientStatusRunning
			c.DeploymentStatus = &structs.AllocDeploymentStatus{Healthy: &yes, Timestamp: time.Unix(1, 0), Canary: a.DeploymentStatus.IsCanary()}
			h.State.UpsertAllocs(c)
		}
	}
}

// versions counts the live allocations per job version.
func versions(h *st.Harness) map[uint64]int {
	out := map[uint64]int{}
	for _, a := range h.State.LiveAllocs() {
		out[a.Job.Version]++
	}
	return out
}

func latest(t *testing.T, h *st.Harness, job *structs.Job) *structs.Deployment {
	t.Helper()
	d, err := h.State.LatestDeploymentByJob(job.Namespace, job.ID)
	if err != nil || d == nil {
		t.Fatalf("no deployment: %v", err)
	}
	return d
}

func TestRollingUpdateHonoursMaxParallel(t *testing.T) {
	h, job := setup(t, st.Job("web", 4), st.Node("n1"), st.Node("n2"))
	process(t, h, job)
	if d, _ := h.State.LatestDeploymentByJob(job.Namespace, job.ID); d != nil {
		t.Fatalf("a first placement made deployment %+v; only updates deploy", d)
	}

	job.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "2"}
	job = h.State.UpsertJob(job)
	var first *structs.Deployment
	for step := 1; step <= 4; step++ {
		process(t, h, job)
		// Until the new allocation is healthy, nothing more is replaced.
		process(t, h, job)
		if got := versions(h)[job.Version]; got != step {
			t.Fatalf("step %d: %d allocations of the new version, want %d (%v)", step, got, step, versions(h))
		}
		d := latest(t, h, job)
		if d.JobVersion != job.Version || d.Status != structs.DeploymentStatusRunning {
			t.Fatalf("step %d: deployment %+v", step, d)
		}
		if first == nil {
			first = d
		} else if d.ID != first.ID {
			t.Fatalf("step %d: a second deployment %s", step, d.ID)
		}
		markHealthy(h, d.ID)
	}
	if v := versions(h); v[job.Version] != 4 || len(v) != 1 {
		t.Errorf("after the rollout: %v", v)
	}

	// A newer version cancels the deployment of the older one.
	job.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "3"}
	job = h.State.UpsertJob(job)
	process(t, h, job)
	if got := h.State.Deployment(first.ID); got.Status != structs.DeploymentStatusCancelled {
		t.Errorf("older deployment %s, want cancelled", got.Status)
	}
}

func TestCanariesWaitForPromotion(t *testing.T) {
	h, job := setup(t, st.Job("web", 3), st.Node("n1"), st.Node("n2"))
	process(t, h, job)

	job.TaskGroups[0].Update.Canary = 1
	job.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "2"}
	job = h.State.UpsertJob(job)
	process(t, h, job)
	process(t, h, job)
	if v := versions(h); v[job.Version-1] != 3 || v[job.Version] != 1 {
		t.Fatalf("with a canary: %v, want 3 old and 1 new", v)
	}
	d := latest(t, h, job)
	if !d.RequiresPromotion() || d.StatusDescription != structs.DeploymentDescRunningNeedsPromotion {
		t.Fatalf("deployment %+v should wait for promotion", d)
	}
	markHealthy(h, d.ID)
	process(t, h, job)
	if v := versions(h); v[job.Version] != 1 {
		t.Fatalf("before promotion: %v", v)
	}

	d.TaskGroups["web"].Promoted = true
	h.State.UpsertDeployment(d)
	for i := 0; i < 3; i++ {
		process(t, h, job)
		markHealthy(h, d.ID)
	}
	if v := versions(h); v[job.Version] != 3 || len(v) != 1 {
		t.Errorf("after promotion: %v, want 3 new", v)
	}
}

func TestFailedDeploymentUpdatesNothingMore(t *testing.T) {
	h, job := setup(t, st.Job("web", 3), st.Node("n1"))
	process(t, h, job)
	job.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "2"}
	job = h.State.UpsertJob(job)
	process(t, h, job)
	d := latest(t, h, job)
	d.Status = structs.DeploymentStatusFailed
	h.State.UpsertDeployment(d)
	markHealthy(h, d.ID)
	process(t, h, job)
	if v := versions(h); v[job.Version] != 1 || v[job.Version-1] != 2 {
		t.Errorf("after failure: %v, want 1 new and 2 old", v)
	}
}

func TestScaleUpWithUpdateJoinsTheDeployment(t *testing.T) {
	h, job := setup(t, st.Job("web", 1), st.Node("n1"), st.Node("n2"))
	process(t, h, job)
	job.TaskGroups[0].Count = 2
	job.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "2"}
	job = h.State.UpsertJob(job)
	process(t, h, job)
	d := latest(t, h, job)
	n := 0
	for _, a := range h.State.LiveAllocs() {
		if a.Job.Version == job.Version {
			n++
			if a.DeploymentID != d.ID {
				t.Errorf("%s is not part of deployment %s", a.Name, d.ID)
			}
		}
	}
	if n != 2 || d.TaskGroups["web"].DesiredTotal != 2 {
		t.Errorf("%d new allocations, deployment wants %d", n, d.TaskGroups["web"].DesiredTotal)
	}
}
