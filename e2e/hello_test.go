package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/structs"
)

var helloJob = webJob{Name: "e2e-hello", Count: 2, GroupExtra: restartThreeTimes}.HCL()

type demoAnswer struct {
	Version  string `json:"version"`
	Hostname string `json:"hostname"`
	Alloc    string `json:"alloc"`
	Requests int    `json:"requests"`
}

// TestDevAgentRunsJobEndToEnd is the first complete path: HCL → CLI → HTTP
// → Raft → scheduler → client → Docker, and status back. Both instances
// answer on their host ports, a container killed by hand is restarted, and
// a purge leaves no container behind.
func TestDevAgentRunsJobEndToEnd(t *testing.T) {
	a := startAgent(t)
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()

	out, code := drover(t, a, "job", "run", writeJob(t, helloJob))
	if code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, `finished with status "complete"`) {
		t.Errorf("job run output lacks the evaluation's end:\n%s", out)
	}

	allocs := waitRunning(t, a.Addr, "e2e-hello", 2)
	for _, alloc := range allocs {
		answer := askDemo(t, alloc)
		if answer.Alloc != alloc.ID || answer.Version != "v1" {
			t.Errorf("alloc %s answered %+v", alloc.ID, answer)
		}
	}

	// Kill one container behind drover's back: the restart policy brings it back.
	victim := allocs[0]
	containers := droverContainers(t, docker, "e2e-hello")
	var victimID string
	for _, c := range containers {
		if c.Labels["com.drover.alloc_id"] == victim.ID {
			victimID = c.ID
		}
	}
	if victimID == "" {
		t.Fatalf("no container for alloc %s among %d drover containers", victim.ID, len(containers))
	}
	if _, err := docker.ContainerKill(context.Background(), victimID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the killed task to be restarted and answer again", func() (bool, error) {
		var alloc structs.Allocation
		if err := getJSON(a.Addr+"/v1/allocation/"+victim.ID, &alloc); err != nil {
			return false, err
		}
		ts := alloc.TaskStates["app"]
		if ts == nil || ts.Restarts < 1 || ts.State != structs.TaskStateRunning {
			return false, fmt.Errorf("task state %+v", ts)
		}
		_, err := tryDemo(&alloc)
		return err == nil, err
	})

	// Logs come back through the API.
	out, code = drover(t, a, "alloc", "logs", victim.ID[:8], "app")
	if code != 0 || !strings.Contains(out, "listening") {
		t.Errorf("alloc logs exited %d:\n%s", code, out)
	}

	out, code = drover(t, a, "job", "stop", "-purge", "e2e-hello")
	if code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}
	waitFor(t, 60*time.Second, "no drover container left", func() (bool, error) {
		left := droverContainers(t, docker, "e2e-hello")
		return len(left) == 0, fmt.Errorf("%d containers left", len(left))
	})
	resp, err := http.Get(a.Addr + "/v1/job/e2e-hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("purged job answers %s, want 404", resp.Status)
	}
}

// waitRunning waits for n running allocations of a job and returns them.
func waitRunning(t *testing.T, addr, jobID string, n int) []*structs.Allocation {
	t.Helper()
	var running []*structs.Allocation
	waitFor(t, 90*time.Second, fmt.Sprintf("%d running allocations of %s", n, jobID), func() (bool, error) {
		var stubs []*structs.AllocListStub
		if err := getJSON(addr+"/v1/job/"+jobID+"/allocations", &stubs); err != nil {
			return false, err
		}
		running = running[:0]
		for _, s := range stubs {
			if s.ClientStatus != structs.AllocClientStatusRunning {
				continue
			}
			var alloc structs.Allocation
			if err := getJSON(addr+"/v1/allocation/"+s.ID, &alloc); err != nil {
				return false, err
			}
			running = append(running, &alloc)
		}
		return len(running) == n, fmt.Errorf("%d of %d allocations running", len(running), len(stubs))
	})
	return running
}

func hostPort(alloc *structs.Allocation, label string) (string, int) {
	for _, p := range alloc.AllocatedResources.Shared.Ports {
		if p.Label == label {
			return p.HostIP, p.Value
		}
	}
	return "", 0
}

func tryDemo(alloc *structs.Allocation) (*demoAnswer, error) {
	ip, port := hostPort(alloc, "http")
	if port == 0 {
		return nil, fmt.Errorf("alloc %s has no http port", alloc.ID)
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/", ip, port))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var ans demoAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("demo app answered %q: %w", body, err)
	}
	return &ans, nil
}

// askDemo asks one instance, allowing a moment for the app to listen.
func askDemo(t *testing.T, alloc *structs.Allocation) *demoAnswer {
	t.Helper()
	var ans *demoAnswer
	waitFor(t, 20*time.Second, "alloc "+alloc.ID+" to answer HTTP", func() (bool, error) {
		var err error
		ans, err = tryDemo(alloc)
		return err == nil, err
	})
	return ans
}

func droverContainers(t *testing.T, docker *client.Client, jobID string) []containerSummary {
	t.Helper()
	res, err := docker.ContainerList(context.Background(), client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", "com.drover.job_id="+jobID),
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []containerSummary
	for _, c := range res.Items {
		out = append(out, containerSummary{ID: c.ID, Labels: c.Labels, State: string(c.State)})
	}
	return out
}

type containerSummary struct {
	ID     string
	Labels map[string]string
	State  string // "running", "exited", ...
}
