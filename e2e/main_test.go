// Package e2e tests drover end to end: the real binary as a separate
// process, real Raft on disk, and containers in the real Docker engine.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/internal/demoimage"
	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/structs"
)

// droverBin is the binary built once for every test.
var droverBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "drover-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if droverBin, err = devagent.Build(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := demoimage.Ensure(ctx, "v1", "v2"); err != nil {
		fmt.Fprintln(os.Stderr, "demo image:", err)
		return 1
	}
	return m.Run()
}

// startAgent runs a dev agent for one test and stops it (SIGTERM) after.
// extraArgs are more `drover agent` flags (e.g. -config FILE).
func startAgent(t *testing.T, extraArgs ...string) *devagent.Agent {
	t.Helper()
	a, err := devagent.Start(context.Background(), droverBin, t.TempDir(), extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A dev agent stops what it runs: no container of its
		// allocations may outlive it.
		var allocs []*structs.AllocListStub
		if err := getJSON(a.Addr+"/v1/allocations", &allocs); err != nil {
			t.Errorf("list allocations before stopping the agent: %v", err)
		}
		if err := a.Stop(30 * time.Second); err != nil {
			t.Errorf("agent stop: %v", err)
		}
		for _, c := range leftoverContainers(t, allocs) {
			t.Errorf("container %s of allocation %s outlived its dev agent", c.ID, c.Labels["com.drover.alloc_id"])
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", a.Log())
		}
	})
	waitFor(t, 30*time.Second, "a ready node", func() (bool, error) {
		var nodes []*structs.NodeListStub
		if err := getJSON(a.Addr+"/v1/nodes", &nodes); err != nil {
			return false, err
		}
		return len(nodes) == 1 && nodes[0].Status == structs.NodeStatusReady, nil
	})
	return a
}

// drover runs the CLI against the agent and returns its output and exit code.
func drover(t *testing.T, a *devagent.Agent, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(droverBin, args...)
	cmd.Env = append(os.Environ(), "DROVER_ADDR="+a.Addr)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("drover %s: %v", strings.Join(args, " "), err)
	}
	return string(out), code
}

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func writeJob(t *testing.T, src string) string {
	t.Helper()
	path := t.TempDir() + "/job.hcl"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// leftoverContainers lists the containers of the given allocations that
// still exist, and removes them so one test's leak does not hide another's.
func leftoverContainers(t *testing.T, allocs []*structs.AllocListStub) []containerSummary {
	t.Helper()
	if len(allocs) == 0 {
		return nil
	}
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Errorf("docker client: %v", err)
		return nil
	}
	defer docker.Close()
	ids := map[string]bool{}
	for _, a := range allocs {
		ids[a.ID] = true
	}
	res, err := docker.ContainerList(context.Background(), client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", "com.drover.alloc_id"),
	})
	if err != nil {
		t.Errorf("list containers: %v", err)
		return nil
	}
	var left []containerSummary
	for _, c := range res.Items {
		if ids[c.Labels["com.drover.alloc_id"]] {
			left = append(left, containerSummary{ID: c.ID, Labels: c.Labels})
			docker.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
		}
	}
	return left
}
