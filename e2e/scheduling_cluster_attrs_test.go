package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/structs"
)

// smallClientMemMB is what the small clients offer to allocations: they
// reserve the rest of the machine's memory. bigJobMemMB asks for more than
// that, so only a client without the reservation fits it.
const (
	smallClientMemMB = 1024
	bigJobMemMB      = 2048
)

// attrsClientConfig is a client's config: its class and rack, and the
// memory it keeps for itself (none when reservedMB is 0).
func attrsClientConfig(class, rack string, reservedMB int64) string {
	reserved := ""
	if reservedMB > 0 {
		reserved = fmt.Sprintf("  reserved {\n    memory = %d\n  }\n", reservedMB)
	}
	return fmt.Sprintf("client {\n  node_class = %q\n  meta = { rack = %q }\n%s}\n", class, rack, reserved)
}

// demoJob is a service (or system) job of the demo app with the given
// count, memory and group-level constraint lines.
func demoJob(id, typ string, count, memMB int, constraints string) string {
	return fmt.Sprintf(`
job %q {
  type = %q
  group "g" {
    count = %d
%s
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
      }
      resources {
        cpu    = 50
        memory = %d
      }
    }
  }
}
`, id, typ, count, constraints, memMB)
}

const rackConstraint = `    constraint {
      attribute = "${meta.rack}"
      value     = "r1"
    }
    constraint {
      distinct_hosts = true
    }`

const classConstraint = `    constraint {
      attribute = "${node.class}"
      value     = "batch"
    }`

// TestSchedulingByClientAttributes runs one server and three clients with
// configs of their own (node_class, meta.rack, reserved memory), then adds
// a fourth, bigger client:
//   - a job constrained to rack r1 with distinct_hosts lands once on each
//     r1 client; a job constrained to node class "batch" lands only on
//     the batch client;
//   - `job plan` of a count change (through a client agent) prints the
//     diff, the placement failure and the check index; the change run
//     with that index leaves the extra allocation blocked;
//   - a job asking for more memory than any client offers stays blocked,
//     and its evaluation says memory is exhausted on the three nodes;
//   - a system job runs on the three clients;
//   - when the bigger r1 client joins, the big job, the blocked rack
//     allocation and the system job are placed on it, without any action.
func TestSchedulingByClientAttributes(t *testing.T) {
	total := memTotalMB(t)
	if total < bigJobMemMB+smallClientMemMB {
		t.Skipf("this machine has %d MiB; the test needs %d", total, bigJobMemMB+smallClientMemMB)
	}
	reserve := total - smallClientMemMB
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()
	jobs := []string{"e2e-rack", "e2e-class", "e2e-big", "e2e-attrs-system"}
	removeContainersAtEnd(t, jobs...)
	c := cluster.New(t, cluster.Options{Binary: droverBin, Servers: 1})
	server := c.WaitLeader(60 * time.Second)
	cl := server.API()
	web1 := c.AddClient(attrsClientConfig("web", "r1", reserve))
	web2 := c.AddClient(attrsClientConfig("web", "r1", reserve))
	batch := c.AddClient(attrsClientConfig("batch", "r2", reserve))
	nodeOf := waitClientNodes(t, c, cl)
	idOf := map[*cluster.Agent]string{}
	for id, a := range nodeOf {
		idOf[a] = id
	}
	for id, a := range nodeOf {
		node, _, err := cl.Nodes().Info(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if free := nodeMemMB(node); free >= bigJobMemMB {
			t.Fatalf("%s offers %d MiB, not less than the big job's %d", a.Name, free, bigJobMemMB)
		}
	}

	registerSrc(t, cl, demoJob("e2e-rack", "service", 2, 32, rackConstraint))
	registerSrc(t, cl, demoJob("e2e-class", "service", 2, 32, classConstraint))
	assertPlacement(t, cl, nodeOf, "e2e-rack", map[string]int{web1.Name: 1, web2.Name: 1})
	assertPlacement(t, cl, nodeOf, "e2e-class", map[string]int{batch.Name: 2})

	// Plan a third rack allocation through a client agent: two r1 hosts
	// hold the two there are.
	rack3 := writeJob(t, demoJob("e2e-rack", "service", 3, 32, rackConstraint))
	out, code := droverAt(t, batch.HTTP, "job", "plan", rack3)
	if code != 1 {
		t.Fatalf("plan of the count change exited %d, want 1:\n%s", code, out)
	}
	t.Logf("plan of the count change through %s:\n%s", batch.Name, out)
	for _, want := range []string{`+/- Job: "e2e-rack"`, `+/- Count: "2" => "3"`, "Failed to place", `Constraint "${meta.rack} = r1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan of the count change lacks %q:\n%s", want, out)
		}
	}
	m := regexp.MustCompile(`drover job run -check-index (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("plan prints no check-index hint:\n%s", out)
	}
	if !strings.Contains(out, "Job Modify Index: "+m[1]) {
		t.Errorf("plan's modify index and hint differ:\n%s", out)
	}
	if out, code := droverAt(t, batch.HTTP, "job", "run", "-detach", "-check-index", m[1], rack3); code != 0 {
		t.Fatalf("run with the planned index exited %d:\n%s", code, out)
	}
	waitBlocked(t, cl, "e2e-rack")
	assertPlacement(t, cl, nodeOf, "e2e-rack", map[string]int{web1.Name: 1, web2.Name: 1})

	// Too big for every client: blocked, and the evaluation says why.
	registerSrc(t, cl, demoJob("e2e-big", "service", 1, bigJobMemMB, ""))
	blocked := waitBlocked(t, cl, "e2e-big")
	// The evaluation that made the blocked one holds the failures.
	evals, _, err := cl.Jobs().Evaluations("e2e-big", nil)
	if err != nil {
		t.Fatal(err)
	}
	var metric *structs.AllocMetric
	for _, e := range evals {
		if e.BlockedEval == blocked.ID {
			metric = e.FailedTGAllocs["g"]
		}
	}
	if metric == nil || metric.NodesExhausted != 3 || metric.DimensionExhausted["memory"] != 3 {
		t.Errorf("the evaluation that blocked the big job explains %+v, want memory exhausted on 3 nodes", metric)
	}
	out, _ = droverAt(t, server.HTTP, "eval", "status", blocked.ID)
	if !strings.Contains(out, `Dimension "memory" exhausted on 3 nodes`) {
		t.Errorf("eval status of the blocked evaluation does not say memory is exhausted on 3 nodes:\n%s", out)
	}

	registerSrc(t, cl, demoJob("e2e-attrs-system", "system", 1, 32, ""))
	waitFor(t, 60*time.Second, "the system job on the three clients", func() (bool, error) {
		n := liveOnNodes(cl, "e2e-attrs-system")
		return n == 3, fmt.Errorf("on %d nodes", n)
	})

	// A bigger client in rack r1 joins: everything waiting lands there.
	big := c.AddClient(attrsClientConfig("big", "r1", 0))
	for id, a := range waitClientNodes(t, c, cl) {
		nodeOf[id] = a
	}
	assertPlacement(t, cl, nodeOf, "e2e-big", map[string]int{big.Name: 1})
	assertPlacement(t, cl, nodeOf, "e2e-rack", map[string]int{web1.Name: 1, web2.Name: 1, big.Name: 1})
	assertPlacement(t, cl, nodeOf, "e2e-attrs-system", map[string]int{web1.Name: 1, web2.Name: 1, batch.Name: 1, big.Name: 1})
	assertPlacement(t, cl, nodeOf, "e2e-class", map[string]int{batch.Name: 2})

	// Nothing is left running when the clients stop.
	for _, job := range jobs {
		if _, err := cl.Jobs().Deregister(job, true); err != nil {
			t.Errorf("stop %s: %v", job, err)
		}
	}
	waitFor(t, 60*time.Second, "every allocation stopped", func() (bool, error) {
		allocs, _, err := cl.Allocations().List(nil)
		if err != nil {
			return false, err
		}
		running := 0
		for _, a := range allocs {
			if a.ClientStatus == structs.AllocClientStatusRunning || a.ClientStatus == structs.AllocClientStatusPending {
				running++
			}
		}
		return running == 0, fmt.Errorf("%d running or pending", running)
	})
}

// assertPlacement waits until the job's running allocations are exactly
// want (client name → count), and fails with what they are otherwise.
func assertPlacement(t *testing.T, cl *api.Client, nodeOf map[string]*cluster.Agent, jobID string, want map[string]int) {
	t.Helper()
	var have map[string]int
	waitFor(t, 90*time.Second, fmt.Sprintf("%s placed as %v", jobID, want), func() (bool, error) {
		stubs, _, err := cl.Jobs().Allocations(jobID, false, nil)
		if err != nil {
			return false, err
		}
		have = map[string]int{}
		for _, s := range stubs {
			if s.DesiredStatus != structs.AllocDesiredStatusRun {
				continue
			}
			if s.ClientStatus != structs.AllocClientStatusRunning {
				return false, fmt.Errorf("allocation %s is %s", s.ID, s.ClientStatus)
			}
			name := s.NodeID
			if a := nodeOf[s.NodeID]; a != nil {
				name = a.Name
			}
			have[name]++
		}
		return fmt.Sprint(have) == fmt.Sprint(want), fmt.Errorf("placed as %v", have)
	})
}

// waitBlocked waits for the job's blocked evaluation and returns it.
func waitBlocked(t *testing.T, cl *api.Client, jobID string) *structs.Evaluation {
	t.Helper()
	var blocked *structs.Evaluation
	waitFor(t, 60*time.Second, "a blocked evaluation of "+jobID, func() (bool, error) {
		evals, _, err := cl.Jobs().Evaluations(jobID, nil)
		if err != nil {
			return false, err
		}
		var statuses []string
		for _, e := range evals {
			statuses = append(statuses, e.Status)
			if e.Status == structs.EvalStatusBlocked {
				blocked = e
				return true, nil
			}
		}
		slices.Sort(statuses)
		return false, fmt.Errorf("evaluations %v", statuses)
	})
	return blocked
}

// nodeMemMB is the memory the node offers to allocations.
func nodeMemMB(n *structs.Node) int64 {
	var mem int64
	if n.NodeResources != nil {
		mem = n.NodeResources.Memory.MemoryMB
	}
	if n.ReservedResources != nil {
		mem -= n.ReservedResources.Memory.MemoryMB
	}
	return mem
}

// memTotalMB is the machine's memory in MiB, as the clients fingerprint it.
func memTotalMB(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			t.Fatalf("/proc/meminfo: MemTotal %q: %v", rest, err)
		}
		return kb / 1024
	}
	t.Fatalf("/proc/meminfo has no MemTotal")
	return 0
}
