package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

// Short heartbeats, so that a dead client is down within seconds: clients
// beat every second and are down 2 s + 2 s after their last beat.
const fastHeartbeats = `
server {
  min_heartbeat_ttl = "2s"
  heartbeat_grace   = "2s"
}
`

// healJobSrc spreads three instances of the demo app over the nodes. It
// publishes no port: a client in its network namespace publishes on its
// own IP, which the Docker engine of the root namespace cannot bind.
const healJobSrc = `
job "e2e-heal" {
  spread {
    attribute = "${node.unique.id}"
  }
  group "web" {
    count = 3
    restart {
      attempts = 0
      mode     = "fail"
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
`

const healSystemJobSrc = `
job "e2e-heal-system" {
  type = "system"
  group "agent" {
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
`

// TestClientsHealCluster runs 3 servers and 3 remote clients that find
// the servers by gossip (-retry-join of one server) and forward API
// requests to them. A service of count 3 is spread over the clients; then:
//   - a client killed with SIGKILL and started again re-attaches to its
//     containers: same container IDs, never restarted;
//   - a client killed for good goes down, its allocation is marked lost
//     and replaced elsewhere; when it returns, its old container is
//     removed and the count stays 3;
//   - a client whose Docker engine is unreachable gets no placement;
//   - when the leader dies, the clients fail over to the other servers
//     and no node goes down.
func TestClientsHealCluster(t *testing.T) {
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()
	removeContainersAtEnd(t, "e2e-heal", "e2e-heal-system")
	c := cluster.New(t, cluster.Options{Binary: droverBin, Servers: 3, Clients: 3, ServerConfig: fastHeartbeats})
	leader := c.WaitLeader(60 * time.Second)
	cl := leader.API()

	nodeOf := map[string]*cluster.Agent{} // node ID → client agent
	waitFor(t, 60*time.Second, "three ready nodes", func() (bool, error) {
		nodes, _, err := cl.Nodes().List(nil)
		if err != nil {
			return false, err
		}
		for _, n := range nodes {
			for _, a := range c.Clients() {
				if n.Name == a.Name {
					nodeOf[n.ID] = a
				}
			}
		}
		return countReady(nodes) == 3 && len(nodeOf) == 3, fmt.Errorf("%d ready of %d nodes", countReady(nodes), len(nodes))
	})
	// A client agent forwards API requests to the servers.
	if nodes, _, err := c.Clients()[0].API().Nodes().List(nil); err != nil || len(nodes) != 3 {
		t.Errorf("nodes through a client agent: %d, %v", len(nodes), err)
	}
	idOf := map[*cluster.Agent]string{}
	for id, a := range nodeOf {
		idOf[a] = id
	}

	registerSrc(t, cl, healJobSrc)
	allocs := waitLiveAllocs(t, cl, "e2e-heal", 3)
	byNode := allocsByNode(allocs)
	if len(byNode) < 2 {
		t.Fatalf("count 3 placed on %d node(s), want several", len(byNode))
	}
	t.Logf("placement: %v", nodeNames(byNode, nodeOf))

	// 1. SIGKILL and restart: the containers keep running, same IDs.
	var restarted *cluster.Agent
	for id, as := range byNode {
		if len(as) > 0 {
			restarted = nodeOf[id]
			break
		}
	}
	before := runningContainers(t, docker, "e2e-heal", idOf[restarted])
	if len(before) == 0 {
		t.Fatalf("no running container of %s", restarted.Name)
	}
	startedBefore := map[string]string{}
	for _, id := range before {
		startedBefore[id] = containerStartedAt(t, docker, id)
	}
	recoveredBefore := strings.Count(restarted.Log(), "msg=\"recovered task\"")
	restarted.Kill()
	restarted.Start()
	waitFor(t, 30*time.Second, restarted.Name+" to recover its tasks", func() (bool, error) {
		log := restarted.Log()
		if strings.Contains(log, "could not recover task") {
			t.Fatalf("%s could not recover a task", restarted.Name)
		}
		n := strings.Count(log, "msg=\"recovered task\"") - recoveredBefore
		return n >= len(before), fmt.Errorf("%d of %d tasks recovered", n, len(before))
	})
	after := runningContainers(t, docker, "e2e-heal", idOf[restarted])
	for alloc, id := range before {
		if after[alloc] != id {
			t.Errorf("alloc %s: container %s before the restart, %q after", alloc, id[:12], after[alloc])
		}
		if started := containerStartedAt(t, docker, id); started != startedBefore[id] {
			t.Errorf("alloc %s: container %s started at %s, now %q: restarted", alloc, id[:12], startedBefore[id], started)
		}
	}

	// 2. SIGKILL for good: down, lost, replaced; back: no duplicate.
	var victim *cluster.Agent
	for id, as := range byNode {
		if nodeOf[id] != restarted && len(as) > 0 {
			victim = nodeOf[id]
		}
	}
	if victim == nil {
		t.Fatalf("no second node with allocations: %v", nodeNames(byNode, nodeOf))
	}
	victimAllocs := byNode[idOf[victim]]
	killedAt := time.Now()
	victim.Kill()
	waitFor(t, 30*time.Second, victim.Name+"'s node down", func() (bool, error) {
		node, _, err := cl.Nodes().Info(idOf[victim], nil)
		return err == nil && node.Status == structs.NodeStatusDown, err
	})
	t.Logf("%s down %s after SIGKILL", victim.Name, time.Since(killedAt).Round(100*time.Millisecond))
	waitFor(t, 60*time.Second, "the lost allocations replaced elsewhere", func() (bool, error) {
		stubs, _, err := cl.Jobs().Allocations("e2e-heal", true, nil)
		if err != nil {
			return false, err
		}
		lost, running := 0, 0
		for _, s := range stubs {
			switch {
			case s.NodeID == idOf[victim] && s.ClientStatus == structs.AllocClientStatusLost:
				lost++
			case s.NodeID != idOf[victim] && s.ClientStatus == structs.AllocClientStatusRunning && s.DesiredStatus == structs.AllocDesiredStatusRun:
				running++
			}
		}
		return lost == len(victimAllocs) && running == 3, fmt.Errorf("%d lost of %d, %d running elsewhere", lost, len(victimAllocs), running)
	})
	t.Logf("replacement running %s after SIGKILL", time.Since(killedAt).Round(100*time.Millisecond))

	victim.Start()
	waitFor(t, 30*time.Second, victim.Name+" ready again", func() (bool, error) {
		node, _, err := cl.Nodes().Info(idOf[victim], nil)
		return err == nil && node.Status == structs.NodeStatusReady, err
	})
	waitFor(t, 60*time.Second, "the returned node's old containers stopped", func() (bool, error) {
		left := runningContainers(t, docker, "e2e-heal", idOf[victim])
		return len(left) == 0, fmt.Errorf("%d still running", len(left))
	})
	live := waitLiveAllocs(t, cl, "e2e-heal", 3)
	if n := len(runningContainersAll(t, docker, "e2e-heal")); n != 3 {
		t.Errorf("%d containers of e2e-heal running, want 3 (allocs %d)", n, len(live))
	}

	// 3. A client without Docker gets nothing new.
	if _, err := cl.Jobs().Deregister("e2e-heal", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "e2e-heal's containers gone", func() (bool, error) {
		n := len(runningContainersAll(t, docker, "e2e-heal"))
		return n == 0, fmt.Errorf("%d running", n)
	})
	blind := c.Clients()[2]
	noDocker := filepath.Join(t.TempDir(), "no-docker.hcl")
	if err := os.WriteFile(noDocker, []byte(`client { options = { "docker.endpoint" = "unix:///nonexistent/docker.sock" } }`), 0o644); err != nil {
		t.Fatal(err)
	}
	blind.Stop()
	blind.AppendArgs("-config", noDocker)
	blind.Start()
	waitFor(t, 30*time.Second, blind.Name+" ready with an unhealthy docker driver", func() (bool, error) {
		node, _, err := cl.Nodes().Info(idOf[blind], nil)
		if err != nil {
			return false, err
		}
		d := node.Drivers["docker"]
		return node.Status == structs.NodeStatusReady && d != nil && !d.Healthy, fmt.Errorf("status %s, docker %+v", node.Status, d)
	})
	registerSrc(t, cl, healSystemJobSrc)
	sys := waitLiveAllocs(t, cl, "e2e-heal-system", 2)
	for _, a := range sys {
		if a.NodeID == idOf[blind] {
			t.Errorf("allocation %s placed on %s, whose docker driver is unhealthy", a.ID, blind.Name)
		}
	}

	// 4. The leader dies: the clients move to the live servers, and the
	// new leader's fresh timers mark no node down.
	oldLeader := c.WaitLeader(30 * time.Second)
	oldLeader.Kill()
	cl = c.WaitLeaderAmong(60*time.Second, c.ServersExcept(oldLeader)...).API()
	window := time.Now().Add(10 * time.Second) // 2.5 times TTL + grace
	for time.Now().Before(window) {
		nodes, _, err := cl.Nodes().List(nil)
		if err != nil {
			t.Fatalf("list nodes after %s died: %v", oldLeader.Name, err)
		}
		if n := countReady(nodes); n != 3 {
			t.Fatalf("%d of 3 nodes ready after %s died", n, oldLeader.Name)
		}
		time.Sleep(200 * time.Millisecond) // the pace of the watch, not a wait for something
	}
}

func registerSrc(t *testing.T, cl *api.Client, src string) {
	t.Helper()
	job, err := jobspec.Parse("job.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Jobs().Register(job); err != nil {
		t.Fatal(err)
	}
}

// waitLiveAllocs waits for exactly n allocations of the job that should
// run and do run, and returns them.
func waitLiveAllocs(t *testing.T, cl *api.Client, jobID string, n int) []*structs.AllocListStub {
	t.Helper()
	var live []*structs.AllocListStub
	waitFor(t, 90*time.Second, fmt.Sprintf("%d running allocations of %s", n, jobID), func() (bool, error) {
		stubs, _, err := cl.Jobs().Allocations(jobID, false, nil)
		if err != nil {
			return false, err
		}
		live = live[:0]
		for _, s := range stubs {
			if s.DesiredStatus == structs.AllocDesiredStatusRun && s.ClientStatus == structs.AllocClientStatusRunning {
				live = append(live, s)
			}
		}
		return len(live) == n, fmt.Errorf("%d of %d running", len(live), len(stubs))
	})
	return live
}

func allocsByNode(allocs []*structs.AllocListStub) map[string][]*structs.AllocListStub {
	out := map[string][]*structs.AllocListStub{}
	for _, a := range allocs {
		out[a.NodeID] = append(out[a.NodeID], a)
	}
	return out
}

func nodeNames(byNode map[string][]*structs.AllocListStub, nodeOf map[string]*cluster.Agent) map[string]int {
	out := map[string]int{}
	for id, as := range byNode {
		out[nodeOf[id].Name] = len(as)
	}
	return out
}

type jobContainer struct {
	ID, AllocID, NodeID, State string
}

func jobContainers(t *testing.T, docker *client.Client, jobID string) []jobContainer {
	t.Helper()
	var out []jobContainer
	for _, c := range droverContainers(t, docker, jobID) {
		if c.Labels["com.drover.infra"] != "" {
			continue
		}
		out = append(out, jobContainer{ID: c.ID, AllocID: c.Labels["com.drover.alloc_id"], NodeID: c.Labels["com.drover.node_id"], State: c.State})
	}
	return out
}

// runningContainers maps alloc ID to container ID for the job's running
// containers on one node.
func runningContainers(t *testing.T, docker *client.Client, jobID, nodeID string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range jobContainers(t, docker, jobID) {
		if c.NodeID == nodeID && c.State == "running" {
			out[c.AllocID] = c.ID
		}
	}
	return out
}

func runningContainersAll(t *testing.T, docker *client.Client, jobID string) []jobContainer {
	t.Helper()
	var out []jobContainer
	for _, c := range jobContainers(t, docker, jobID) {
		if c.State == "running" {
			out = append(out, c)
		}
	}
	return out
}

func containerStartedAt(t *testing.T, docker *client.Client, id string) string {
	t.Helper()
	res, err := docker.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		return ""
	}
	if res.Container.State == nil {
		return ""
	}
	return res.Container.State.StartedAt
}
