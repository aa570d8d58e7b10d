package command

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/structs"
)

const jobFile = `
variable "image" {
  type    = string
  default = "app:1"
}

job "web" {
  datacenters = ["dc1"]
  group "web" {
    count = 2
    task "app" {
      driver = "docker"
      config {
        image = var.image
      }
    }
  }
}
`

var (
	evalID  = "3c7b6f0e-1111-4000-8000-000000000001"
	blocked = "9d9d9d9d-2222-4000-8000-000000000002"
	nodeID  = "171a583b-3333-4000-8000-000000000003"
	allocA  = "8ba85cef-4444-4000-8000-000000000004"
	allocB  = "8bf00d00-5555-4000-8000-000000000005"
)

// scheduleOnRegister makes the fake answer a registration with an
// evaluation that goes from pending to final, and allocations it placed.
func scheduleOnRegister(e *testEnv, final *structs.Evaluation, placed ...*structs.Allocation) {
	e.server.OnRegister = func(job *structs.Job) *structs.Evaluation {
		for _, a := range placed {
			a.JobID, a.EvalID = job.ID, evalID
		}
		e.server.Allocs = append(e.server.Allocs, placed...)
		final.ID, final.JobID = evalID, job.ID
		e.server.EvalStates = map[string][]*structs.Evaluation{evalID: {final}}
		return &structs.Evaluation{ID: evalID, Status: structs.EvalStatusPending}
	}
}

func TestJobRunMonitorsTheEvaluation(t *testing.T) {
	e := newTestEnv(t)
	scheduleOnRegister(e, &structs.Evaluation{Status: structs.EvalStatusComplete, CreateIndex: 11},
		&structs.Allocation{ID: allocB, NodeID: nodeID, TaskGroup: "web", Name: "web.web[1]", CreateIndex: 12},
		&structs.Allocation{ID: allocA, NodeID: nodeID, TaskGroup: "web", Name: "web.web[0]", CreateIndex: 12})
	path := writeFile(t, "web.hcl", jobFile)

	r := runCLI(t, "", "job", "run", "-var", "image=app:2", path)
	r.want(t, 0,
		"==> Monitoring evaluation \"3c7b6f0e\"\n"+
			"    Evaluation triggered by job \"web\"\n"+
			"    Evaluation status changed: \"pending\" -> \"complete\"\n"+
			"    Allocation \"8ba85cef\" created: node \"171a583b\", group \"web\"\n"+
			"    Allocation \"8bf00d00\" created: node \"171a583b\", group \"web\"\n"+
			"==> Evaluation \"3c7b6f0e\" finished with status \"complete\"\n")

	regs := e.server.Registrations()
	if len(regs) != 1 || regs[0].Job.ID != "web" || regs[0].Job.TaskGroups[0].Tasks[0].Config["image"] != "app:2" {
		t.Fatalf("registered %+v", regs)
	}
}

func TestJobRunPlacementFailure(t *testing.T) {
	e := newTestEnv(t)
	scheduleOnRegister(e, &structs.Evaluation{
		Status:      structs.EvalStatusComplete,
		BlockedEval: blocked,
		FailedTGAllocs: map[string]*structs.AllocMetric{"web": {
			NodesEvaluated:     2,
			ConstraintFiltered: map[string]int{"missing drivers": 1},
			NodesExhausted:     1,
			DimensionExhausted: map[string]int{"memory": 1},
			CoalescedFailures:  1,
		}},
	})
	path := writeFile(t, "web.hcl", jobFile)

	runCLI(t, "", "job", "run", path).want(t, 2,
		"==> Evaluation \"3c7b6f0e\" finished with status \"complete\" but failed to place all allocations:\n"+
			"    Task Group \"web\" (failed to place 2 allocations):\n"+
			"      * Constraint \"missing drivers\": 1 nodes excluded by filter\n"+
			"      * Resources exhausted on 1 nodes\n"+
			"      * Dimension \"memory\" exhausted on 1 nodes\n"+
			"    Evaluation \"9d9d9d9d\" waiting for additional capacity to place remainder\n")
}

func TestJobRunFailedEvaluation(t *testing.T) {
	e := newTestEnv(t)
	scheduleOnRegister(e, &structs.Evaluation{Status: structs.EvalStatusFailed, StatusDescription: "maximum attempts reached (5)"})
	runCLI(t, "", "job", "run", "-verbose", writeFile(t, "web.hcl", jobFile)).want(t, 2,
		`==> Monitoring evaluation "`+evalID+`"`,
		`finished with status "failed": maximum attempts reached (5)`)
}

func TestJobRunDetach(t *testing.T) {
	e := newTestEnv(t)
	scheduleOnRegister(e, &structs.Evaluation{Status: structs.EvalStatusComplete})
	r := runCLI(t, "", "job", "run", "-detach", writeFile(t, "web.hcl", jobFile))
	r.want(t, 0)
	if r.stdout != evalID+"\n" {
		t.Fatalf("-detach printed %q, want only the evaluation ID", r.stdout)
	}
}

func TestJobRunFromStdin(t *testing.T) {
	e := newTestEnv(t)
	runCLI(t, jobFile, "job", "run", "-detach", "-").want(t, 0)
	if regs := e.server.Registrations(); len(regs) != 1 || regs[0].Job.ID != "web" {
		t.Fatalf("registered %+v", regs)
	}
}

func TestJobRunErrors(t *testing.T) {
	newTestEnv(t)
	bad := writeFile(t, "bad.hcl", "job \"web\" {\n  bogus = 1\n}\n")
	runCLI(t, "", "job", "run", bad).want(t, 1, "Error parsing job file", "bad.hcl:2")
	runCLI(t, "", "job", "run", "/nonexistent/web.hcl").want(t, 1, "Error parsing job file", "no such file")

	t.Setenv("DROVER_ADDR", "http://127.0.0.1:1")
	runCLI(t, "", "job", "run", writeFile(t, "web.hcl", jobFile)).want(t, 1, "Error submitting job")
}

func TestJobValidate(t *testing.T) {
	runCLI(t, "", "job", "validate", writeFile(t, "web.hcl", jobFile)).want(t, 0, "Job validation successful")
	invalid := strings.Replace(jobFile, "count = 2", "count = -1", 1)
	runCLI(t, "", "job", "validate", writeFile(t, "web.hcl", invalid)).want(t, 1,
		"Job validation errors:", `  * group "web": count must not be negative, got -1`)
	runCLI(t, "", "job", "validate", "-var", "nope=1", writeFile(t, "web.hcl", jobFile)).want(t, 1, "Error parsing job file")
}

// statusFixture is a job with two allocations and a blocked evaluation.
func statusFixture(e *testEnv) {
	e.server.Jobs = []*structs.Job{job("web", "app"), job("db", "pg")}
	e.server.Jobs[1].Stop, e.server.Jobs[1].Status = true, structs.JobStatusDead
	e.server.Allocs = []*structs.Allocation{
		{ID: allocA, JobID: "web", TaskGroup: "web", NodeID: nodeID, DesiredStatus: "run", ClientStatus: "running",
			CreateIndex: 5, CreateTime: unix(testNow.Add(-5 * time.Minute)), ModifyTime: unix(testNow.Add(-4*time.Minute - 3*time.Second))},
		{ID: allocB, JobID: "web", TaskGroup: "web", NodeID: nodeID, DesiredStatus: "stop", ClientStatus: "complete",
			CreateIndex: 3, CreateTime: unix(testNow.Add(-2 * time.Hour)), ModifyTime: unix(testNow.Add(-time.Hour))},
	}
	e.server.Evals = []*structs.Evaluation{{ID: blocked, JobID: "web", Status: structs.EvalStatusBlocked, CreateIndex: 6,
		FailedTGAllocs: map[string]*structs.AllocMetric{"web": {NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: map[string]int{"cpu": 1}}}}}
}

func TestJobStatus(t *testing.T) {
	e := newTestEnv(t)
	runCLI(t, "", "job", "status").want(t, 0, "No running jobs")
	statusFixture(e)

	r := runCLI(t, "", "job", "status")
	r.want(t, 0, "ID   Type     Priority  Status          Submit Date", "db   service  50        dead (stopped)", "web  service  50        running")

	r = runCLI(t, "", "job", "status", "we")
	r.want(t, 0,
		"ID          = web\n",
		"Status      = running\n",
		"Summary\nTask Group  Queued  Starting  Running  Failed  Complete  Lost  Unknown\nweb         0       0         1        0       1         0     0\n",
		"Placement Failure\nTask Group \"web\" (failed to place 1 allocation):\n  * Resources exhausted on 1 nodes\n  * Dimension \"cpu\" exhausted on 1 nodes\n",
		"Allocations\nID        Node ID   Task Group  Version  Desired  Status    Created  Modified\n"+
			"8ba85cef  171a583b  web         0        run      running   5m ago   4m3s ago\n"+
			"8bf00d00  171a583b  web         0        stop     complete  2h ago   1h ago\n")

	runCLI(t, "", "job", "status", "-verbose", "web").want(t, 0, allocA+"  "+nodeID, testNow.Add(-5*time.Minute).Local().Format(time.RFC3339))
	runCLI(t, "", "job", "status", "zz").want(t, 1, `No job(s) with prefix or id "zz" found`)

	e.server.Jobs = append(e.server.Jobs, job("web-2", "app"))
	runCLI(t, "", "job", "status", "we").want(t, 1, `Prefix "we" matched multiple jobs`, "web-2")
	runCLI(t, "", "job", "status", "web").want(t, 0, "ID          = web\n") // an exact ID wins
}

func TestJobStop(t *testing.T) {
	e := newTestEnv(t)
	e.server.Jobs = []*structs.Job{job("web", "app"), job("db", "pg"), job("cache", "redis")}

	// A prefix asks first; "n" cancels.
	runCLI(t, "n\n", "job", "stop", "we").want(t, 0, `Are you sure you want to stop job "web"? [y/N]`, "Cancelling job stop")
	if got := e.server.Deregistrations(); len(got) != 0 {
		t.Fatalf("stopped after a no: %+v", got)
	}
	runCLI(t, "y\n", "job", "stop", "we").want(t, 0, "==> Monitoring evaluation", `Evaluation triggered by job "web"`, `finished with status "complete"`)

	// An exact ID does not ask.
	r := runCLI(t, "", "job", "stop", "-purge", "-detach", "db")
	r.want(t, 0)
	if strings.Contains(r.stdout, "Are you sure") || len(strings.TrimSpace(r.stdout)) != 36 {
		t.Fatalf("-detach printed %q, want only the evaluation ID", r.stdout)
	}
	runCLI(t, "", "job", "stop", "-yes", "-detach", "ca").want(t, 0)

	got := e.server.Deregistrations()
	want := []backendtest.Deregistration{{Namespace: "default", JobID: "web", Purge: false}, {Namespace: "default", JobID: "db", Purge: true}, {Namespace: "default", JobID: "cache", Purge: false}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("deregistrations %+v, want %+v", got, want)
	}
	runCLI(t, "", "job", "stop", "nope").want(t, 1, `No job(s) with prefix or id "nope" found`)
}
