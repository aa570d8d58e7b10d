package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const planJobV1 = `
job "e2e-plan" {
  group "web" {
    count = 1
    network {
      port "http" { to = 8080 }
    }
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        ports = ["http"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

// TestJobPlan plans a new job, runs it, plans a change (the diff, what
// happens per group and the check index) and runs the change only with
// the index the plan printed.
func TestJobPlan(t *testing.T) {
	a := startAgent(t)
	v1 := writeJob(t, planJobV1)

	out, code := drover(t, a, "job", "plan", v1)
	if code != 1 {
		t.Fatalf("plan of a new job exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{`+ Job: "e2e-plan"`, `+ Task Group: "web" (1 create)`, "All tasks successfully allocated", "Job Modify Index: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan of a new job lacks %q:\n%s", want, out)
		}
	}

	if out, code := drover(t, a, "job", "run", v1); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}

	// The same job again changes nothing.
	out, code = drover(t, a, "job", "plan", v1)
	if code != 0 || !strings.Contains(out, `Task Group: "web" (1 ignore)`) {
		t.Errorf("plan of the running job exited %d, want 0 and 1 ignore:\n%s", code, out)
	}

	v2 := writeJob(t, strings.Replace(strings.Replace(planJobV1, "count = 1", "count = 2", 1), "drover-demo:v1", "drover-demo:v2", 1))
	out, code = drover(t, a, "job", "plan", v2)
	if code != 1 {
		t.Fatalf("plan of a change exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		`+/- Job: "e2e-plan"`,
		`+/- Task Group: "web" (1 create, 1 create/destroy update)`,
		`+/- Count: "1" => "2" (forces create)`,
		`+/- Task: "app" (forces create/destroy update)`,
		`+/- image: "drover-demo:v1" => "drover-demo:v2"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan of a change lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`drover job run -check-index (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("plan prints no check-index hint:\n%s", out)
	}
	if !strings.Contains(out, "Job Modify Index: "+m[1]) {
		t.Errorf("plan's modify index and hint differ:\n%s", out)
	}

	// A stale index is refused; the planned one is accepted.
	var index int
	fmt.Sscan(m[1], &index)
	if out, code := drover(t, a, "job", "run", "-check-index", fmt.Sprint(index-1), v2); code == 0 || !strings.Contains(out, "modify index") {
		t.Errorf("run with a stale index exited %d:\n%s", code, out)
	}
	if out, code := drover(t, a, "job", "run", "-check-index", m[1], v2); code != 0 {
		t.Errorf("run with the planned index exited %d:\n%s", code, out)
	}
	// Now the planned index is stale too.
	if out, code := drover(t, a, "job", "run", "-check-index", m[1], v2); code == 0 {
		t.Errorf("a second run with the same index was accepted:\n%s", out)
	}
}

// TestConstraintExplained: a constraint that filters the only node leaves
// the job unplaced, and both run and plan say why.
func TestConstraintExplained(t *testing.T) {
	a := startAgent(t)
	job := writeJob(t, strings.Replace(strings.Replace(planJobV1, `"e2e-plan"`, `"e2e-windows"`, 1), "group \"web\" {", `group "web" {
    constraint {
      attribute = "${attr.kernel.name}"
      value     = "windows"
    }`, 1))
	const why = `Constraint "${attr.kernel.name} = windows": 1 nodes excluded by filter`

	out, code := drover(t, a, "job", "plan", job)
	if code != 1 || !strings.Contains(out, "Failed to place all allocations") || !strings.Contains(out, why) {
		t.Errorf("plan exited %d, want 1 and the constraint explained:\n%s", code, out)
	}
	out, code = drover(t, a, "job", "run", job)
	if code != 2 || !strings.Contains(out, why) {
		t.Errorf("run exited %d, want 2 and the constraint explained:\n%s", code, out)
	}

	// The blocked evaluation explains what it waits for.
	out, code = drover(t, a, "eval", "list", "-job", "e2e-windows", "-status", "blocked")
	m := regexp.MustCompile(`(?m)^([0-9a-f]{8})\s`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("eval list exited %d with no blocked evaluation:\n%s", code, out)
	}
	out, code = drover(t, a, "eval", "status", m[1])
	if code != 0 || !strings.Contains(out, "Status             = blocked") || !strings.Contains(out, why) {
		t.Errorf("eval status of the blocked evaluation exited %d:\n%s", code, out)
	}
}

// TestJobVersions: history with diffs, revert, scale and inspect through
// the CLI.
func TestJobVersions(t *testing.T) {
	a := startAgent(t)
	v1 := writeJob(t, strings.Replace(planJobV1, `"e2e-plan"`, `"e2e-versions"`, 1))
	v2 := writeJob(t, strings.Replace(strings.Replace(planJobV1, `"e2e-plan"`, `"e2e-versions"`, 1), "drover-demo:v1", "drover-demo:v2", 1))
	for _, path := range []string{v1, v2} {
		if out, code := drover(t, a, "job", "run", "-detach", path); code != 0 {
			t.Fatalf("job run exited %d:\n%s", code, out)
		}
	}

	out, code := drover(t, a, "job", "history", "-p", "e2e-versions")
	if code != 0 {
		t.Fatalf("job history exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "Version     = 1") || !strings.Contains(out, "Version     = 0") ||
		!strings.Contains(out, `+/- image: "drover-demo:v1" => "drover-demo:v2"`) {
		t.Errorf("job history -p:\n%s", out)
	}

	// Version 1 is marked stable; the history shows it.
	req, _ := http.NewRequest(http.MethodPut, a.Addr+"/v1/job/e2e-versions/stable", strings.NewReader(`{"JobVersion": 1, "Stable": true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT stable: %v %v", resp, err)
	}
	resp.Body.Close()
	out, _ = drover(t, a, "job", "history", "-version", "1", "e2e-versions")
	if !strings.Contains(out, "Stable      = true") {
		t.Errorf("version 1 not shown stable:\n%s", out)
	}

	if out, code := drover(t, a, "job", "revert", "e2e-versions", "0"); code != 0 {
		t.Fatalf("job revert exited %d:\n%s", code, out)
	}
	if out, code := drover(t, a, "job", "scale", "e2e-versions", "web", "3"); code != 0 {
		t.Fatalf("job scale exited %d:\n%s", code, out)
	}
	out, code = drover(t, a, "job", "inspect", "e2e-versions")
	if code != 0 {
		t.Fatalf("job inspect exited %d:\n%s", code, out)
	}
	for _, want := range []string{`"Job": {`, `"Version": 3`, `"Count": 3`, `"image": "drover-demo:v1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("job inspect lacks %s:\n%s", want, out)
		}
	}
	out, _ = drover(t, a, "job", "inspect", "-version", "1", "e2e-versions")
	if !strings.Contains(out, `"image": "drover-demo:v2"`) {
		t.Errorf("job inspect -version 1:\n%s", out)
	}
	out, _ = drover(t, a, "job", "history", "e2e-versions")
	if strings.Count(out, "Version     =") != 4 {
		t.Errorf("want 4 versions after revert and scale:\n%s", out)
	}
}

// TestSchedulerConfiguration: the algorithm and switches are read and set
// through the CLI and the HTTP API, and kept.
func TestSchedulerConfiguration(t *testing.T) {
	a := startAgent(t)
	out, code := drover(t, a, "operator", "scheduler", "get-config")
	if code != 0 || !strings.Contains(out, "Scheduler Algorithm           = binpack") ||
		!strings.Contains(out, "Preemption System Scheduler   = true") {
		t.Fatalf("get-config exited %d:\n%s", code, out)
	}
	// memory_max is ignored, and said so, while oversubscription is off.
	withMax := strings.Replace(strings.Replace(planJobV1, `"e2e-plan"`, `"e2e-memmax"`, 1), "memory = 32", "memory = 32\n        memory_max = 64", 1)
	if out, code := drover(t, a, "job", "run", "-detach", writeJob(t, withMax)); code != 0 || !strings.Contains(out, "memory_max value will be ignored") {
		t.Errorf("job run with memory_max exited %d without the warning:\n%s", code, out)
	}
	if out, code := drover(t, a, "operator", "scheduler", "set-config", "-scheduler-algorithm=random"); code == 0 || !strings.Contains(out, "invalid scheduler algorithm") {
		t.Errorf("an unknown algorithm was accepted (exit %d):\n%s", code, out)
	}
	out, code = drover(t, a, "operator", "scheduler", "set-config", "-scheduler-algorithm=spread", "-memory-oversubscription=true")
	if code != 0 || !strings.Contains(out, "Scheduler configuration updated!") {
		t.Fatalf("set-config exited %d:\n%s", code, out)
	}
	var resp struct {
		SchedulerConfig struct {
			SchedulerAlgorithm            string
			MemoryOversubscriptionEnabled bool
			PreemptionConfig              struct{ SystemSchedulerEnabled bool }
			ModifyIndex                   uint64
		}
		Index uint64
	}
	if err := getJSON(a.Addr+"/v1/operator/scheduler/configuration", &resp); err != nil {
		t.Fatal(err)
	}
	c := resp.SchedulerConfig
	if c.SchedulerAlgorithm != "spread" || !c.MemoryOversubscriptionEnabled || !c.PreemptionConfig.SystemSchedulerEnabled || c.ModifyIndex == 0 || resp.Index == 0 {
		t.Errorf("configuration = %+v", resp)
	}
	stale := fmt.Sprint(c.ModifyIndex - 1)
	if out, code := drover(t, a, "operator", "scheduler", "set-config", "-check-index", stale, "-scheduler-algorithm=binpack"); code == 0 {
		t.Errorf("a stale check index was accepted:\n%s", out)
	}
}

// TestSystemJob runs a system job on the dev agent's node: one allocation,
// running, named after index 0, and a scale request is refused.
func TestSystemJob(t *testing.T) {
	a := startAgent(t)
	if out, code := drover(t, a, "job", "run", writeJob(t, systemJobSrc)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	allocs := waitRunning(t, a.Addr, "e2e-system", 1)
	if allocs[0].Name != "e2e-system.agent[0]" {
		t.Errorf("allocation name %q", allocs[0].Name)
	}
	if out, code := drover(t, a, "job", "scale", "e2e-system", "3"); code == 0 || !strings.Contains(out, "no count to scale") {
		t.Errorf("scaling a system job exited %d:\n%s", code, out)
	}
}
