package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

// A service with real containers, so cluster A has allocations to save.
// No ports: the agent's address lives in its namespace, where Docker could
// not publish one.
const snapshotJob = `
job "%s" {
  datacenters = ["*"]
  group "web" {
    count = 2
    task "app" {
      driver = "docker"
      config { image = "drover-demo:v1" }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

// TestClusterSnapshotRestoresOnAFreshCluster saves a snapshot of cluster A
// (one server with a client, running a job) with `drover operator snapshot
// save`, restores it on a fresh 3-server cluster B with `... restore`, and
// finds A's jobs, allocations, evaluations and node on every server of B.
func TestClusterSnapshotRestoresOnAFreshCluster(t *testing.T) {
	jobID := fmt.Sprintf("snapshot-web-%d", os.Getpid()) // the Docker engine is shared
	// Before cluster A, so it runs after A's agent is gone and cannot
	// restart what it removes.
	removeContainersAtEnd(t, jobID)

	a := newCluster(t, cluster.Options{Servers: 1, ServerArgs: []string{"-client"}})
	a1 := a.WaitLeader(60 * time.Second)
	job, err := jobspec.Parse("snapshot.hcl", fmt.Appendf(nil, snapshotJob, jobID), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "A's client to be ready and the job registered", func() (bool, error) {
		nodes, _, err := a1.API().Nodes().List(nil)
		if err != nil || len(nodes) != 1 || nodes[0].Status != structs.NodeStatusReady {
			return false, fmt.Errorf("nodes %v: %v", nodes, err)
		}
		_, err = a1.API().Jobs().Register(job)
		return err == nil, err
	})
	waitFor(t, 90*time.Second, "2 running allocations on A", func() (bool, error) {
		allocs, _, err := a1.API().Jobs().Allocations(jobID, false, nil)
		if err != nil {
			return false, err
		}
		running := 0
		for _, al := range allocs {
			if al.ClientStatus == structs.AllocClientStatusRunning {
				running++
			}
		}
		return running == 2, fmt.Errorf("%d of %d allocations running", running, len(allocs))
	})
	want, err := readContents(a1)
	if err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "a.snap")
	if out, code := droverAt(t, a1.HTTP, "operator", "snapshot", "save", file); code != 0 {
		t.Fatalf("snapshot save exited %d:\n%s", code, out)
	}
	if out, code := droverAt(t, a1.HTTP, "job", "stop", "-purge", jobID); code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}
	a1.Stop()

	b := newCluster(t, cluster.Options{Servers: 3})
	leader := b.WaitLeader(60 * time.Second)
	if out, code := droverAt(t, leader.HTTP, "operator", "snapshot", "restore", file); code != 0 {
		t.Fatalf("snapshot restore exited %d:\n%s", code, out)
	}
	for _, s := range b.Servers() {
		waitFor(t, 30*time.Second, "A's state on "+s.Name, func() (bool, error) {
			got, err := readContents(s)
			if err != nil {
				return false, err
			}
			if !slices.Equal(got.jobs, want.jobs) {
				return false, fmt.Errorf("jobs %v, want %v", got.jobs, want.jobs)
			}
			// B's leader may add evaluations and allocations of its own
			// (A's node is silent there), but keeps every one of A's.
			for _, kind := range []struct {
				name      string
				got, want []string
			}{{"allocation", got.allocs, want.allocs}, {"evaluation", got.evals, want.evals}, {"node", got.nodes, want.nodes}} {
				for _, id := range kind.want {
					if !slices.Contains(kind.got, id) {
						return false, fmt.Errorf("%s %s of A is missing", kind.name, id)
					}
				}
			}
			return true, nil
		})
	}
}

// contents are the IDs of what a server's state holds, sorted.
type contents struct {
	jobs, allocs, evals, nodes []string
}

func readContents(a *cluster.Agent) (contents, error) {
	q := &api.QueryOptions{AllowStale: true}
	var c contents
	jobs, _, err := a.API().Jobs().List(q)
	if err != nil {
		return c, fmt.Errorf("%s: %w", a.Name, err)
	}
	for _, j := range jobs {
		c.jobs = append(c.jobs, j.ID)
	}
	allocs, _, err := a.API().Allocations().List(q)
	if err != nil {
		return c, fmt.Errorf("%s: %w", a.Name, err)
	}
	for _, al := range allocs {
		c.allocs = append(c.allocs, al.ID)
	}
	evals, _, err := a.API().Evaluations().List(q)
	if err != nil {
		return c, fmt.Errorf("%s: %w", a.Name, err)
	}
	for _, e := range evals {
		c.evals = append(c.evals, e.ID)
	}
	nodes, _, err := a.API().Nodes().List(q)
	if err != nil {
		return c, fmt.Errorf("%s: %w", a.Name, err)
	}
	for _, n := range nodes {
		c.nodes = append(c.nodes, n.ID)
	}
	for _, ids := range [][]string{c.jobs, c.allocs, c.evals, c.nodes} {
		slices.Sort(ids)
	}
	return c, nil
}

// removeJobContainers force-removes every container of a job. A client
// that stops the job's allocations at the same time may be removing one
// already: a container that is gone or whose removal is under way is fine.
func removeJobContainers(t *testing.T, jobID string) {
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Errorf("docker client: %v", err)
		return
	}
	defer docker.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range droverContainers(t, docker, jobID) {
		_, err := docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			t.Errorf("remove container %s: %v", c.ID, err)
		}
	}
}
