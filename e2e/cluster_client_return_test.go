package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/uuid"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/e2e/cluster"
)

// returnJobSrc is a one-instance service of the demo app named %s.
const returnJobSrc = `
job %q {
  group "web" {
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

// TestClusterClientReturn kills a client with SIGKILL and, while it is
// away, stops one of its two jobs on the servers and leaves a container
// with drover's labels for this node and an allocation nobody knows (what
// a client killed between creating a container and recording it leaves).
// Started again, the client stops the stopped job's container, removes the
// unknown one, and keeps the other job's container: same ID, not restarted.
func TestClusterClientReturn(t *testing.T) {
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()
	const keepJob, stopJob = "e2e-return-keep", "e2e-return-stop"
	removeContainersAtEnd(t, keepJob, stopJob)
	c := cluster.New(t, cluster.Options{Binary: droverBin, Servers: 1, Clients: 1})
	cl := c.WaitLeader(60 * time.Second).API()
	var nodeID string
	for id := range waitClientNodes(t, c, cl) {
		nodeID = id
	}
	agent := c.Clients()[0]

	registerSrc(t, cl, fmt.Sprintf(returnJobSrc, keepJob))
	registerSrc(t, cl, fmt.Sprintf(returnJobSrc, stopJob))
	waitLiveAllocs(t, cl, keepJob, 1)
	waitLiveAllocs(t, cl, stopJob, 1)
	kept := runningContainers(t, docker, keepJob, nodeID)
	if len(kept) != 1 {
		t.Fatalf("%d running containers of %s, want 1", len(kept), keepJob)
	}
	var keptID string
	for _, id := range kept {
		keptID = id
	}
	keptStarted := containerStartedAt(t, docker, keptID)
	if n := len(runningContainers(t, docker, stopJob, nodeID)); n != 1 {
		t.Fatalf("%d running containers of %s, want 1", n, stopJob)
	}

	agent.Kill()
	if _, err := cl.Jobs().Deregister(stopJob, false); err != nil {
		t.Fatalf("stop %s while %s is away: %v", stopJob, agent.Name, err)
	}
	orphanAlloc := uuid.NewString()
	created, err := docker.ContainerCreate(context.Background(), client.ContainerCreateOptions{
		Name: "drover-e2e-orphan-" + orphanAlloc[:8],
		Config: &container.Config{Image: "drover-demo:v1", Labels: map[string]string{
			"com.drover.node_id":  nodeID,
			"com.drover.alloc_id": orphanAlloc,
			"com.drover.job_id":   keepJob, // removed by the cleanup if the client leaves it
		}},
		HostConfig: &container.HostConfig{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docker.ContainerStart(context.Background(), created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}

	agent.Start()
	waitFor(t, 60*time.Second, "the stopped job's container stopped and the unknown one removed", func() (bool, error) {
		stopped := len(runningContainers(t, docker, stopJob, nodeID)) == 0
		_, err := docker.ContainerInspect(context.Background(), created.ID, client.ContainerInspectOptions{})
		gone := cerrdefs.IsNotFound(err)
		return stopped && gone, fmt.Errorf("%s stopped: %v, unknown container removed: %v (%v)", stopJob, stopped, gone, err)
	})
	after := runningContainers(t, docker, keepJob, nodeID)
	if len(after) != 1 {
		t.Fatalf("%d running containers of %s after the return, want 1: %v", len(after), keepJob, after)
	}
	for _, id := range after {
		if id != keptID {
			t.Errorf("%s runs container %.12s after the return, %.12s before", keepJob, id, keptID)
		}
	}
	if started := containerStartedAt(t, docker, keptID); started != keptStarted {
		t.Errorf("%s's container started at %s, now %q: restarted", keepJob, keptStarted, started)
	}
	waitLiveAllocs(t, cl, keepJob, 1)
}
