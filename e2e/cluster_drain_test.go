package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/structs"
)

// The drained job: six instances of the demo app spread over the three
// clients (two on each), moved one at a time, each replacement counted as
// healthy once its task has run for drainMinHealthy. No port is published
// (see healJobSrc).
const (
	drainJobID       = "e2e-cluster-drain"
	drainCount       = 6
	drainMaxParallel = 1
	drainMinHealthy  = 3 * time.Second
	// drainDeadline is far beyond what the migration needs (about
	// 2 × (start + drainMinHealthy)), so the drain ends by moving
	// allocations, not by the deadline stopping them all at once.
	drainDeadline = 4 * time.Minute
)

var clusterDrainJobSrc = fmt.Sprintf(`
job %q {
  spread {
    attribute = "${node.unique.id}"
  }
  group "web" {
    count = %d
    migrate {
      max_parallel     = %d
      health_check     = "task_states"
      min_healthy_time = "%s"
      healthy_deadline = "1m"
    }
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`, drainJobID, drainCount, drainMaxParallel, drainMinHealthy)

// TestClusterDrain drains a client of a 3 servers + 3 clients cluster with
// a deadline through the CLI. While it drains, every change of the job's
// allocations is read with a blocking query, and the group never has
// fewer than count − max_parallel healthy allocations that should run.
// In the end the drained node runs nothing (neither by the servers' view
// nor in Docker), the job has its count running on the other nodes, and
// the node is ineligible with its drain complete, well before the
// deadline.
func TestClusterDrain(t *testing.T) {
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()
	removeContainersAtEnd(t, drainJobID)
	c := cluster.New(t, cluster.Options{Binary: droverBin, Servers: 3, Clients: 3})
	leader := c.WaitLeader(60 * time.Second)
	cl := leader.API()
	nodeOf := waitClientNodes(t, c, cl)

	registerSrc(t, cl, clusterDrainJobSrc)
	live := waitLiveAllocs(t, cl, drainJobID, drainCount)
	byNode := allocsByNode(live)
	t.Logf("placement: %v", nodeNames(byNode, nodeOf))
	var drained string
	for id, as := range byNode {
		if drained == "" || len(as) > len(byNode[drained]) {
			drained = id
		}
	}
	if n := len(byNode[drained]); n < 2 {
		t.Fatalf("at most %d allocation on one node (%v); the drain needs several to move in batches", n, nodeNames(byNode, nodeOf))
	}
	onDrained := len(byNode[drained])
	floor := drainCount - drainMaxParallel
	// Every allocation is healthy before the drain starts, so the first
	// batch is not made of allocations that were never healthy.
	waitFor(t, 30*time.Second, "every allocation healthy", func() (bool, error) {
		stubs, _, err := cl.Jobs().Allocations(drainJobID, false, nil)
		if err != nil {
			return false, err
		}
		n := countHealthy(stubs, time.Now())
		return n == drainCount, fmt.Errorf("%d of %d healthy", n, drainCount)
	})

	// The CLI follows the drain until it completes; it runs beside the
	// watch, bounded by a context.
	type result struct {
		out  string
		code int
		err  error
	}
	cliDone := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), drainDeadline+time.Minute)
	defer cancel()
	start := time.Now()
	go func() {
		cmd := exec.CommandContext(ctx, droverBin, "node", "drain", "-enable", "-deadline", drainDeadline.String(), "-yes", drained)
		cmd.Env = append(os.Environ(), "DROVER_ADDR="+leader.HTTP)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			cliDone <- result{out: string(out), code: exit.ExitCode()}
			return
		}
		cliDone <- result{out: string(out), err: err}
	}()

	// Watch every change of the job's allocations until the drained node
	// runs nothing and count run elsewhere. Bounded in time and in number
	// of answers.
	var (
		index    uint64
		minSeen  = drainCount
		answers  int
		timeline []string
		done     bool
	)
	watchEnd := start.Add(drainDeadline)
	for !done {
		if time.Now().After(watchEnd) || answers >= 5000 {
			t.Fatalf("the drain did not finish within %s (%d answers); timeline:\n%s", drainDeadline, answers, strings.Join(timeline, "\n"))
		}
		stubs, meta, err := cl.Jobs().Allocations(drainJobID, false, &api.QueryOptions{WaitIndex: index, WaitTime: time.Second})
		if err != nil {
			t.Fatalf("watch the allocations of %s: %v", drainJobID, err)
		}
		answers++
		now := time.Now()
		healthy := countHealthy(stubs, now)
		onNode, elsewhere := 0, 0
		for _, s := range stubs {
			if s.ClientStatus != structs.AllocClientStatusRunning {
				continue
			}
			if s.NodeID == drained {
				onNode++
			} else if s.DesiredStatus == structs.AllocDesiredStatusRun {
				elsewhere++
			}
		}
		done = onNode == 0 && elsewhere == drainCount && healthy == drainCount
		if index != meta.LastIndex || len(timeline) == 0 || done {
			timeline = append(timeline, fmt.Sprintf("%6s index %d: %d healthy, %d running on the drained node, %d running elsewhere",
				now.Sub(start).Round(100*time.Millisecond), meta.LastIndex, healthy, onNode, elsewhere))
		}
		if healthy < minSeen {
			minSeen = healthy
		}
		if healthy < floor {
			t.Errorf("at index %d (%s into the drain): %d healthy allocations, fewer than count − max_parallel = %d",
				meta.LastIndex, now.Sub(start).Round(100*time.Millisecond), healthy, floor)
		}
		index = meta.LastIndex
	}
	took := time.Since(start)
	t.Logf("drain of %d allocations took %s; fewest healthy seen: %d (floor %d); timeline:\n%s",
		onDrained, took.Round(100*time.Millisecond), minSeen, floor, strings.Join(timeline, "\n"))
	if took >= drainDeadline {
		t.Errorf("the drain took %s, its whole deadline", took)
	}
	// Each batch waits for the previous replacement to be healthy.
	if want := time.Duration(onDrained-1) * drainMinHealthy; took < want {
		t.Errorf("%d allocations moved in %s, less than the %s their min_healthy_time needs one at a time", onDrained, took, want)
	}

	select {
	case r := <-cliDone:
		if r.err != nil || r.code != 0 || !strings.Contains(r.out, "Drain complete") {
			t.Errorf("node drain exited %d (%v):\n%s", r.code, r.err, r.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("node drain -enable still follows the drain 30s after its allocations moved")
	}

	node, _, err := cl.Nodes().Info(drained, nil)
	if err != nil {
		t.Fatal(err)
	}
	if node.DrainStrategy != nil || node.SchedulingEligibility != structs.NodeSchedulingIneligible {
		t.Errorf("%s after the drain: strategy %+v, eligibility %s", nodeOf[drained].Name, node.DrainStrategy, node.SchedulingEligibility)
	}
	if node.LastDrain == nil || node.LastDrain.Status != structs.DrainStatusComplete {
		t.Errorf("%s LastDrain = %+v, want complete", nodeOf[drained].Name, node.LastDrain)
	}
	waitFor(t, 30*time.Second, "no container of the job left running on the drained node", func() (bool, error) {
		left := runningContainers(t, docker, drainJobID, drained)
		return len(left) == 0, fmt.Errorf("%d running", len(left))
	})
	final := waitLiveAllocs(t, cl, drainJobID, drainCount)
	for _, a := range final {
		if a.NodeID == drained {
			t.Errorf("allocation %s runs on the drained node", a.ID)
		}
	}
	if n := len(runningContainersAll(t, docker, drainJobID)); n != drainCount {
		t.Errorf("%d containers of %s running, want %d", n, drainJobID, drainCount)
	}
	t.Logf("after the drain: %v", nodeNames(allocsByNode(final), nodeOf))
}

// waitClientNodes waits until every client of the cluster has a ready
// node and returns the client agent of each node ID.
func waitClientNodes(t *testing.T, c *cluster.Cluster, cl *api.Client) map[string]*cluster.Agent {
	t.Helper()
	want := len(c.Clients())
	nodeOf := map[string]*cluster.Agent{}
	waitFor(t, 60*time.Second, fmt.Sprintf("%d ready nodes", want), func() (bool, error) {
		nodes, _, err := cl.Nodes().List(nil)
		if err != nil {
			return false, err
		}
		for _, n := range nodes {
			for _, a := range c.Clients() {
				if n.Name == a.Name && n.Status == structs.NodeStatusReady {
					nodeOf[n.ID] = a
				}
			}
		}
		return len(nodeOf) == want, fmt.Errorf("%d ready of %d nodes", len(nodeOf), len(nodes))
	})
	return nodeOf
}

// countHealthy counts the allocations that should run and are healthy
// at now: the deployment's verdict when the client gave one, else every
// task running for at least drainMinHealthy (the migrate block's
// task_states health).
func countHealthy(stubs []*structs.AllocListStub, now time.Time) int {
	n := 0
	for _, s := range stubs {
		if s.DesiredStatus != structs.AllocDesiredStatusRun {
			continue
		}
		if s.DeploymentStatus.HasHealth() {
			if s.DeploymentStatus.IsHealthy() && s.ClientStatus == structs.AllocClientStatusRunning {
				n++
			}
			continue
		}
		if s.ClientStatus != structs.AllocClientStatusRunning || len(s.TaskStates) == 0 {
			continue
		}
		ok := true
		for _, ts := range s.TaskStates {
			if ts == nil || ts.State != structs.TaskStateRunning || now.Before(ts.StartedAt.Add(drainMinHealthy)) {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	return n
}
