package e2e

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// deployJob is the demo app behind an http check, rolled out one instance
// at a time; %s are the image, the extra env and the extra update lines.
const deployJob = `
job "%s" {
  datacenters = ["*"]
  update {
    max_parallel      = 1
    min_healthy_time  = "1s"
    healthy_deadline  = "8s"
    progress_deadline = "40s"
    %s
  }
  group "web" {
    count          = %d
    shutdown_delay = "2s"
    network {
      port "http" { to = 8080 }
    }
    service {
      name = "%s"
      port = "http"
      check {
        type     = "http"
        path     = "/health"
        interval = "1s"
        timeout  = "1s"
      }
    }
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:%s"
        ports = ["http"]
      }
      env {
        FAIL_HEALTH = "%s"
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`

func deployJobFile(t *testing.T, id string, count int, image, failHealth, update string) string {
	return writeJob(t, fmt.Sprintf(deployJob, id, update, count, id, image, failHealth))
}

// traffic sends a steady stream of requests to the job's instances that
// are ready: running, not being stopped, and healthy in their deployment
// (or placed before any deployment). It counts what failed.
type traffic struct {
	addr, jobID string
	mu          sync.Mutex
	ports       map[string]*structs.Allocation
	sent        atomic.Int64
	failures    []string
	stop        chan struct{}
	done        chan struct{}
}

func startTraffic(addr, jobID string) *traffic {
	tr := &traffic{addr: addr, jobID: jobID, ports: map[string]*structs.Allocation{}, stop: make(chan struct{}), done: make(chan struct{})}
	go tr.run()
	return tr
}

func (tr *traffic) ready() []*structs.Allocation {
	var stubs []*structs.AllocListStub
	if err := getJSON(tr.addr+"/v1/job/"+tr.jobID+"/allocations", &stubs); err != nil {
		return nil
	}
	var out []*structs.Allocation
	for _, s := range stubs {
		if s.ClientStatus != structs.AllocClientStatusRunning || s.DesiredStatus != structs.AllocDesiredStatusRun {
			continue
		}
		alloc := tr.ports[s.ID]
		if alloc == nil {
			alloc = &structs.Allocation{}
			if err := getJSON(tr.addr+"/v1/allocation/"+s.ID, alloc); err != nil {
				continue
			}
			tr.ports[s.ID] = alloc
		}
		if alloc.DeploymentID != "" && !s.DeploymentStatus.IsHealthy() {
			continue
		}
		out = append(out, alloc)
	}
	return out
}

func (tr *traffic) run() {
	defer close(tr.done)
	for i := 0; ; i++ {
		select {
		case <-tr.stop:
			return
		default:
		}
		ready := tr.ready()
		for _, alloc := range ready {
			tr.sent.Add(1)
			if _, err := tryDemo(alloc); err != nil {
				tr.mu.Lock()
				tr.failures = append(tr.failures, fmt.Sprintf("%s: %v", alloc.ID[:8], err))
				tr.mu.Unlock()
			}
		}
		time.Sleep(20 * time.Millisecond) // a steady pace, not a wait for anything
	}
}

func (tr *traffic) finish(t *testing.T) {
	t.Helper()
	close(tr.stop)
	<-tr.done
	if tr.sent.Load() < 50 {
		t.Errorf("only %d requests were sent", tr.sent.Load())
	}
	if len(tr.failures) > 0 {
		t.Errorf("%d of %d requests failed during the rollout, e.g. %v", len(tr.failures), tr.sent.Load(), tr.failures[0])
	}
}

func latestDeployment(t *testing.T, addr, jobID string) *structs.Deployment {
	t.Helper()
	var d *structs.Deployment
	if err := getJSON(addr+"/v1/job/"+jobID+"/deployment", &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// answersAll waits until the job runs n instances, each answering version.
func answersAll(t *testing.T, addr, jobID string, n int, version string) {
	t.Helper()
	waitFor(t, 40*time.Second, fmt.Sprintf("%d instances answering %s", n, version), func() (bool, error) {
		var stubs []*structs.AllocListStub
		if err := getJSON(addr+"/v1/job/"+jobID+"/allocations", &stubs); err != nil {
			return false, err
		}
		got := 0
		for _, s := range stubs {
			if s.ClientStatus != structs.AllocClientStatusRunning || s.DesiredStatus != structs.AllocDesiredStatusRun {
				continue
			}
			var alloc structs.Allocation
			if err := getJSON(addr+"/v1/allocation/"+s.ID, &alloc); err != nil {
				return false, err
			}
			ans, err := tryDemo(&alloc)
			if err != nil {
				return false, err
			}
			if ans.Version != version {
				return false, fmt.Errorf("%s answers %s", s.ID[:8], ans.Version)
			}
			got++
		}
		return got == n, fmt.Errorf("%d of %d instances", got, n)
	})
}

// TestRollingUpdateDropsNoRequest updates four instances of the demo app
// from v1 to v2 one at a time while a client keeps sending requests to the
// ready ones; then a v3 that never passes its check fails its deployment
// and is reverted to v2.
func TestRollingUpdateDropsNoRequest(t *testing.T) {
	a := startAgent(t)
	const id = "e2e-rolling"
	if out, code := drover(t, a, "job", "run", deployJobFile(t, id, 4, "v1", "0", "auto_revert = true")); code != 0 {
		t.Fatalf("job run v1 exited %d:\n%s", code, out)
	}
	answersAll(t, a.Addr, id, 4, "v1")

	tr := startTraffic(a.Addr, id)
	start := time.Now()
	out, code := drover(t, a, "job", "run", deployJobFile(t, id, 4, "v2", "0", "auto_revert = true"))
	tr.finish(t)
	if code != 0 {
		t.Fatalf("job run v2 exited %d:\n%s", code, out)
	}
	for _, want := range []string{"Monitoring deployment", "Healthy", "Progress Deadline", "successful"} {
		if !strings.Contains(out, want) {
			t.Errorf("job run output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("rolling update of 4 took %s, %d requests", time.Since(start).Round(time.Millisecond), tr.sent.Load())
	answersAll(t, a.Addr, id, 4, "v2")
	d := latestDeployment(t, a.Addr, id)
	if d.Status != structs.DeploymentStatusSuccessful || d.TaskGroups["web"].HealthyAllocs != 4 {
		t.Fatalf("deployment %+v", d)
	}
	var versions structs.JobVersionsResponse
	if err := getJSON(a.Addr+"/v1/job/"+id+"/versions", &versions); err != nil {
		t.Fatal(err)
	}
	if !versions.Versions[0].Stable || versions.Versions[0].Version != 1 {
		t.Errorf("version 1 is not marked stable after its deployment: %+v", versions.Versions[0])
	}

	// v3 never passes its check: its deployment fails and v2 comes back.
	out, code = drover(t, a, "job", "run", deployJobFile(t, id, 4, "v2", "1", "auto_revert = true"))
	if code == 0 || !strings.Contains(out, "rolling back to job version 1") {
		t.Fatalf("job run of a failing version exited %d:\n%s", code, out)
	}
	waitFor(t, 30*time.Second, "the revert to a new version equal to v2", func() (bool, error) {
		var job structs.Job
		if err := getJSON(a.Addr+"/v1/job/"+id, &job); err != nil {
			return false, err
		}
		return job.Version == 3 && job.TaskGroups[0].Tasks[0].Env["FAIL_HEALTH"] == "0", fmt.Errorf("job version %d", job.Version)
	})
	answersAll(t, a.Addr, id, 4, "v2")
	out, code = drover(t, a, "job", "status", id)
	if code != 0 || !strings.Contains(out, "Latest Deployment") {
		t.Errorf("job status exited %d:\n%s", code, out)
	}
}

// TestCanaryWaitsForPromotion runs one v2 canary beside the v1s until it
// is promoted, then rolls the rest.
func TestCanaryWaitsForPromotion(t *testing.T) {
	a := startAgent(t)
	const id = "e2e-canary"
	if out, code := drover(t, a, "job", "run", deployJobFile(t, id, 2, "v1", "0", "canary = 1")); code != 0 {
		t.Fatalf("job run v1 exited %d:\n%s", code, out)
	}
	answersAll(t, a.Addr, id, 2, "v1")
	if out, code := drover(t, a, "job", "run", "-detach", deployJobFile(t, id, 2, "v2", "0", "canary = 1")); code != 0 {
		t.Fatalf("job run v2 exited %d:\n%s", code, out)
	}
	var d *structs.Deployment
	waitFor(t, 30*time.Second, "a healthy canary waiting for promotion", func() (bool, error) {
		d = latestDeployment(t, a.Addr, id)
		if d == nil {
			return false, nil
		}
		s := d.TaskGroups["web"]
		return s.HealthyAllocs == 1 && !s.Promoted, fmt.Errorf("deployment %s %+v", d.Status, s)
	})
	if got := answering(t, a.Addr, id); got["v1"] != 2 || got["v2"] != 1 {
		t.Fatalf("before promotion: %v, want two v1 and one v2 canary", got)
	}
	if out, code := drover(t, a, "deployment", "status", d.ID[:8]); code != 0 || !strings.Contains(out, "requires manual promotion") || !strings.Contains(out, "Canaries") {
		t.Errorf("deployment status exited %d:\n%s", code, out)
	}
	// Paused, it is not promoted; resumed, it is.
	if out, code := drover(t, a, "deployment", "pause", d.ID[:8]); code != 0 || !strings.Contains(out, "paused") {
		t.Fatalf("deployment pause exited %d:\n%s", code, out)
	}
	if d = latestDeployment(t, a.Addr, id); d.Status != structs.DeploymentStatusPaused {
		t.Fatalf("after pause: %s", d.Status)
	}
	if out, code := drover(t, a, "deployment", "resume", "-detach", d.ID[:8]); code != 0 || !strings.Contains(out, "resumed") {
		t.Fatalf("deployment resume exited %d:\n%s", code, out)
	}
	if out, code := drover(t, a, "deployment", "promote", d.ID[:8]); code != 0 {
		t.Fatalf("deployment promote exited %d:\n%s", code, out)
	}
	waitFor(t, 40*time.Second, "the promoted deployment to succeed", func() (bool, error) {
		d = latestDeployment(t, a.Addr, id)
		return d.Status == structs.DeploymentStatusSuccessful, fmt.Errorf("deployment %s: %s", d.Status, d.StatusDescription)
	})
	answersAll(t, a.Addr, id, 2, "v2")
	if out, code := drover(t, a, "deployment", "list"); code != 0 || !strings.Contains(out, "successful") {
		t.Errorf("deployment list exited %d:\n%s", code, out)
	}
}

// answering counts the versions the job's running instances answer.
func answering(t *testing.T, addr, jobID string) map[string]int {
	t.Helper()
	var stubs []*structs.AllocListStub
	if err := getJSON(addr+"/v1/job/"+jobID+"/allocations", &stubs); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range stubs {
		if s.ClientStatus != structs.AllocClientStatusRunning || s.DesiredStatus != structs.AllocDesiredStatusRun {
			continue
		}
		var alloc structs.Allocation
		if err := getJSON(addr+"/v1/allocation/"+s.ID, &alloc); err != nil {
			t.Fatal(err)
		}
		ans, err := tryDemo(&alloc)
		if err != nil {
			t.Fatalf("alloc %s: %v", s.ID[:8], err)
		}
		out[ans.Version]++
	}
	return out
}

var checkRestartJob = webJob{Name: "e2e-check-restart", GroupExtra: `
service {
  name = "e2e-check-restart"
  port = "http"
  check {
    type     = "http"
    path     = "/health"
    interval = "1s"
    timeout  = "1s"
    check_restart {
      limit = 3
      grace = "1s"
    }
  }
}
`, TaskExtra: `
env {
  FAIL_HEALTH = "1"
}
`}.HCL()

// TestCheckRestartRestartsFailingTask: a check that fails three times in
// a row restarts its task (liveness).
func TestCheckRestartRestartsFailingTask(t *testing.T) {
	a := startAgent(t)
	if out, code := drover(t, a, "job", "run", writeJob(t, checkRestartJob)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	waitFor(t, 40*time.Second, "check_restart to restart the task", func() (bool, error) {
		var stubs []*structs.AllocListStub
		if err := getJSON(a.Addr+"/v1/job/e2e-check-restart/allocations", &stubs); err != nil || len(stubs) == 0 {
			return false, err
		}
		ts := stubs[0].TaskStates["app"]
		if ts == nil || ts.Restarts < 1 {
			return false, fmt.Errorf("task state %+v", ts)
		}
		for _, ev := range ts.Events {
			if ev.Type == "Restart Signaled" && strings.Contains(ev.DisplayMessage, "healthcheck") {
				return true, nil
			}
		}
		return false, fmt.Errorf("no Restart Signaled event among %d", len(ts.Events))
	})
}
