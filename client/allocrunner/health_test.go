package allocrunner

import (
	"testing"
	"time"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// deployed is alloc placed by a deployment whose group asks for health
// by task states.
func deployed(alloc *structs.Allocation) *structs.Allocation {
	alloc.DeploymentID = "d1"
	alloc.Job.TaskGroups[0].Update = &structs.UpdateStrategy{MaxParallel: 1,
		HealthCheck: structs.UpdateHealthCheckTaskStates, MinHealthyTime: 5 * time.Second, HealthyDeadline: time.Minute}
	return alloc
}

// waitHealth advances the fake clock until the runner reports a health.
func waitHealth(t *testing.T, h *harness) (*structs.AllocDeploymentStatus, time.Duration) {
	t.Helper()
	fake := h.ar.cfg.Clock.(*clocktest.Fake)
	start := fake.Now()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if last := h.rec.last(); last != nil && last.DeploymentStatus.HasHealth() {
			return last.DeploymentStatus, fake.Now().Sub(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no health reported; last update %+v", h.rec.last())
		}
		fake.Advance(100 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
}

func TestRunningForMinHealthyTimeIsHealthy(t *testing.T) {
	h := start(t, deployed(testAlloc(structs.JobTypeService, mockTask("app", "run_for=1h"))))
	waitStatus(t, h, structs.AllocClientStatusRunning)
	st, took := waitHealth(t, h)
	if !st.IsHealthy() || st.Canary {
		t.Fatalf("health %+v, want healthy", st)
	}
	if took < 5*time.Second {
		t.Errorf("healthy after %s, before min_healthy_time", took)
	}
}

func TestFailedTaskIsUnhealthy(t *testing.T) {
	h := start(t, deployed(testAlloc(structs.JobTypeService, mockTask("app", "run_for=0s", "exit_code=1"))))
	st, _ := waitHealth(t, h)
	if !st.IsUnhealthy() {
		t.Fatalf("health %+v, want unhealthy", st)
	}
}

func TestNoDeploymentNoHealth(t *testing.T) {
	h := start(t, testAlloc(structs.JobTypeService, mockTask("app", "run_for=1h")))
	waitStatus(t, h, structs.AllocClientStatusRunning)
	h.ar.cfg.Clock.(*clocktest.Fake).Advance(time.Minute)
	if st := h.ar.deploymentStatus(); st != nil {
		t.Errorf("an allocation outside any deployment reported %+v", st)
	}
}

func TestCheckAddr(t *testing.T) {
	ports := []driver.PortMapping{{Label: "http", HostIP: "10.0.0.5", HostPort: 25000, ContainerPort: 8080}, {Label: "inner", ContainerPort: 9090}}
	for _, c := range []struct{ label, mode, want string }{
		{"http", "", "10.0.0.5:25000"},
		{"inner", "driver", "127.0.0.1:9090"},
		{"8500", "", "127.0.0.1:8500"},
	} {
		if got := checkAddr(ports, "", c.label, c.mode); got != c.want {
			t.Errorf("checkAddr(%s, %s) = %s, want %s", c.label, c.mode, got, c.want)
		}
	}
}
