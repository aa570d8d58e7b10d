// Command nodeloss prints how fast a drover cluster heals around a dead
// client: over -runs SIGKILLs of a client that runs an allocation, the
// time from the kill until the leader marks its node down, and until the
// replacement allocation runs elsewhere (p50, p90, max). Between runs the
// client is started again and the cluster settles.
//
// The cluster is 3 servers and 3 clients, each a separate process in its
// own network namespace (see e2e/cluster), with the servers' default
// heartbeat settings unless -min-heartbeat-ttl or -heartbeat-grace are
// given. It needs root. `make bench-nodeloss` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/internal/demoimage"
	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

const jobSrc = `
job "bench-nodeloss" {
  group "web" {
    count = 2
    constraint {
      distinct_hosts = true
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

// pollEvery is the resolution of the figures.
const pollEvery = 100 * time.Millisecond

func main() {
	runs := flag.Int("runs", 10, "client kills to measure")
	minTTL := flag.String("min-heartbeat-ttl", "", "server min_heartbeat_ttl (default: the servers' default)")
	grace := flag.String("heartbeat-grace", "", "server heartbeat_grace (default: the servers' default)")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "bench-nodeloss: -runs must be at least 1")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "drover-bench-nodeloss-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-nodeloss:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	bin, err := devagent.Build(ctx, dir)
	if err == nil {
		err = demoimage.Ensure(ctx, "v1")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-nodeloss:", err)
		os.Exit(1)
	}
	serverConfig := ""
	if *minTTL != "" || *grace != "" {
		serverConfig = "server {\n"
		if *minTTL != "" {
			serverConfig += fmt.Sprintf("  min_heartbeat_ttl = %q\n", *minTTL)
		}
		if *grace != "" {
			serverConfig += fmt.Sprintf("  heartbeat_grace = %q\n", *grace)
		}
		serverConfig += "}\n"
	}
	// Clients beat at half the TTL; a kill at a random point of that
	// period is a death at a random moment.
	beat := 5 * time.Second
	if *minTTL != "" {
		d, err := time.ParseDuration(*minTTL)
		if err != nil || d <= 0 {
			fmt.Fprintln(os.Stderr, "bench-nodeloss: -min-heartbeat-ttl:", *minTTL, "is not a duration")
			os.Exit(2)
		}
		beat = d / 2
	}
	r := cluster.NewRunner("bench-nodeloss")
	if !r.Run(func() { bench(r, bin, serverConfig, *runs, beat) }) {
		os.Exit(1)
	}
}

func bench(r *cluster.Runner, bin, serverConfig string, runs int, beat time.Duration) {
	docker, err := client.New(client.FromEnv)
	if err != nil {
		r.Fatalf("%v", err)
	}
	r.Cleanup(func() {
		removeContainers(docker)
		docker.Close()
	})
	c := cluster.New(r, cluster.Options{Binary: bin, Servers: 3, Clients: 3, ServerConfig: serverConfig})
	cl := c.WaitLeader(60 * time.Second).API()
	nodeOf := map[string]*cluster.Agent{}
	wait(r, 60*time.Second, "three ready nodes", func() bool {
		nodes, _, err := cl.Nodes().List(nil)
		if err != nil {
			return false
		}
		ready := 0
		for _, n := range nodes {
			for _, a := range c.Clients() {
				if n.Name == a.Name {
					nodeOf[n.ID] = a
				}
			}
			if n.Status == structs.NodeStatusReady {
				ready++
			}
		}
		return ready == 3 && len(nodeOf) == 3
	})
	job, err := jobspec.Parse("job.hcl", []byte(jobSrc), nil)
	if err != nil {
		r.Fatalf("%v", err)
	}
	if _, err := cl.Jobs().Register(job); err != nil {
		r.Fatalf("register: %v", err)
	}

	var down, replaced []time.Duration
	for i := range runs {
		live := waitLive(r, cl, 2, "")
		nodeID := live[i%len(live)].NodeID
		victim := nodeOf[nodeID]
		// Clients started together beat in step, and a node is down about
		// three beats after its last one, so a kill right after the
		// previous run would always land just after a beat (the worst
		// case). A random pause makes the death a random moment.
		time.Sleep(rand.N(beat))
		killed := time.Now()
		victim.Kill()
		wait(r, 5*time.Minute, victim.Name+" down", func() bool {
			n, _, err := cl.Nodes().Info(nodeID, nil)
			return err == nil && n.Status == structs.NodeStatusDown
		})
		down = append(down, time.Since(killed))
		waitLive(r, cl, 2, nodeID)
		replaced = append(replaced, time.Since(killed))
		r.Logf("run %d: %s down after %s, replacement running after %s", i+1, victim.Name,
			down[i].Round(10*time.Millisecond), replaced[i].Round(10*time.Millisecond))

		// Bring it back and let the cluster settle before the next kill.
		victim.Start()
		wait(r, 60*time.Second, victim.Name+" ready", func() bool {
			n, _, err := cl.Nodes().Info(nodeID, nil)
			return err == nil && n.Status == structs.NodeStatusReady
		})
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "from a client's SIGKILL to (%d runs)\tp50\tp90\tmax\ttarget p90\n", runs)
	fmt.Fprintf(w, "node marked down\t%s\t%s\t%s\t≤ 15s\n", pct(down, 50), pct(down, 90), pct(down, 100))
	fmt.Fprintf(w, "replacement running\t%s\t%s\t%s\t≤ 25s\n", pct(replaced, 50), pct(replaced, 90), pct(replaced, 100))
	w.Flush()
}

// waitLive waits for n running allocations of the job, none on the node
// notOn, and returns them.
func waitLive(r *cluster.Runner, cl *api.Client, n int, notOn string) []*structs.AllocListStub {
	var live []*structs.AllocListStub
	wait(r, 5*time.Minute, fmt.Sprintf("%d running allocations", n), func() bool {
		stubs, _, err := cl.Jobs().Allocations("bench-nodeloss", false, nil)
		if err != nil {
			return false
		}
		live = live[:0]
		for _, s := range stubs {
			if s.DesiredStatus == structs.AllocDesiredStatusRun && s.ClientStatus == structs.AllocClientStatusRunning && s.NodeID != notOn {
				live = append(live, s)
			}
		}
		return len(live) == n
	})
	return live
}

func wait(r *cluster.Runner, timeout time.Duration, what string, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			r.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(pollEvery)
	}
}

// removeContainers removes what the clients leave running when stopped.
func removeContainers(docker *client.Client) {
	res, err := docker.ContainerList(context.Background(), client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", "com.drover.job_id=bench-nodeloss"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-nodeloss: list containers:", err)
		return
	}
	for _, c := range res.Items {
		_, _ = docker.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	}
}

// pct is the p-th percentile of ds, "-" when there is none.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max(0, min((len(s)*p+99)/100-1, len(s)-1))
	return s[i].Round(10 * time.Millisecond).String()
}
