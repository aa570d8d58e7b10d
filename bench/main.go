// Command bench prints drover's headline figures next to their baselines,
// measured in one run on this machine:
//   - submit → running for one container (p50, p90 over -runs runs), next to
//     a bare Docker create+start of the same image;
//   - the idle RSS of a dev agent.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/internal/demoimage"
	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/structs"
)

// manyCounts are the counts of the submit-to-all-running figures.
var manyCounts = []int{10, 50}

func main() {
	runs := flag.Int("runs", 20, "measurements per figure")
	flag.Parse()
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs int) error {
	ctx := context.Background()
	if err := demoimage.Ensure(ctx, "v1"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "drover-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := devagent.Build(ctx, dir)
	if err != nil {
		return err
	}
	docker, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer docker.Close()

	bare, err := measureBareDocker(ctx, docker, runs)
	if err != nil {
		return fmt.Errorf("bare docker: %w", err)
	}

	agent, err := devagent.Start(ctx, bin, dir+"/data")
	if err != nil {
		return err
	}
	defer agent.Stop(30 * time.Second)
	if err := waitReadyNode(agent.Addr); err != nil {
		return err
	}
	// Let start-up work settle before reading the idle footprint.
	time.Sleep(5 * time.Second)
	rss, err := rssKiB(agent.Pid())
	if err != nil {
		return err
	}

	submit, err := measureSubmitToRunning(agent.Addr, runs, 1)
	if err != nil {
		return fmt.Errorf("submit to running: %w", err)
	}
	// Issue 6's figure: submit until every instance runs, for larger counts.
	var many [][]time.Duration
	for _, count := range manyCounts {
		d, err := measureSubmitToRunning(agent.Addr, 3, count)
		if err != nil {
			return fmt.Errorf("submit to all running, count %d: %w", count, err)
		}
		many = append(many, d)
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "figure\tp50\tp90\tratio to bare Docker (p50)\ttarget\n")
	fmt.Fprintf(w, "bare Docker create+start\t%s\t%s\t1.00x\t\n", pct(bare, 50), pct(bare, 90))
	fmt.Fprintf(w, "drover submit -> running\t%s\t%s\t%.2fx\t<= 1.5x\n", pct(submit, 50), pct(submit, 90),
		float64(pct(submit, 50))/float64(pct(bare, 50)))
	fmt.Fprintf(w, "dev agent idle RSS\t%.1f MiB\t\t\t<= 60 MiB\n", float64(rss)/1024)
	for i, count := range manyCounts {
		target := ""
		if count == 50 {
			target = "<= 3.5s"
		}
		fmt.Fprintf(w, "submit -> all %d running (3 runs)\t%s\t%s\t%.2fx\t%s\n", count, pct(many[i], 50), pct(many[i], 90),
			float64(pct(many[i], 50))/float64(pct(bare, 50)), target)
	}
	return w.Flush()
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i].Round(time.Millisecond)
}

// measureBareDocker times what a container start costs without drover:
// create and start of the demo image with one published port.
func measureBareDocker(ctx context.Context, docker *client.Client, runs int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range runs {
		name := fmt.Sprintf("drover-bench-bare-%d-%d", os.Getpid(), i)
		start := time.Now()
		created, err := docker.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       name,
			Config:     &container.Config{Image: demoimage.Ref("v1")},
			HostConfig: &container.HostConfig{PublishAllPorts: true},
		})
		if err != nil {
			return nil, err
		}
		if _, err := docker.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
		if _, err := docker.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// measureSubmitToRunning times PUT /v1/jobs until the client reports the
// allocation running, following the allocation list with blocking queries.
func measureSubmitToRunning(addr string, runs, count int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range runs {
		id := fmt.Sprintf("bench-%d-%d", count, i)
		job := &structs.Job{ID: id, Type: structs.JobTypeService, TaskGroups: []*structs.TaskGroup{{
			Name:     "g",
			Count:    count,
			Networks: []*structs.NetworkResource{{DynamicPorts: []structs.Port{{Label: "http", To: 8080}}}},
			Tasks: []*structs.Task{{
				Name:      "t",
				Driver:    "docker",
				Config:    map[string]any{"image": demoimage.Ref("v1"), "ports": []any{"http"}},
				Resources: &structs.Resources{CPU: 50, MemoryMB: 32},
			}},
		}}}
		body, _ := json.Marshal(map[string]any{"Job": job})
		start := time.Now()
		resp, err := http.Post(addr+"/v1/jobs", "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("register: %s", resp.Status)
		}
		if err := waitAllocs(addr, id, count, structs.AllocClientStatusRunning); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
		// Stop, and wait until everything stopped, so the next run does
		// not compete with this one's teardown.
		if err := deleteJob(addr, id, false); err != nil {
			return nil, err
		}
		if err := waitAllocs(addr, id, count, structs.AllocClientStatusComplete); err != nil {
			return nil, err
		}
		if err := deleteJob(addr, id, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func deleteJob(addr, id string, purge bool) error {
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/v1/job/%s?purge=%t", addr, id, purge), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// waitAllocs follows a job's allocations with blocking queries until n of
// them have the client status.
func waitAllocs(addr, jobID string, n int, status string) error {
	var index uint64
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("%s/v1/job/%s/allocations?index=%d&wait=10s", addr, jobID, index))
		if err != nil {
			return err
		}
		var allocs []*structs.AllocListStub
		err = json.NewDecoder(resp.Body).Decode(&allocs)
		resp.Body.Close()
		if err != nil {
			return err
		}
		index, _ = strconv.ParseUint(resp.Header.Get("X-Nomad-Index"), 10, 64)
		got := 0
		for _, a := range allocs {
			if a.ClientStatus == status {
				got++
			}
		}
		if got >= n {
			return nil
		}
	}
	return fmt.Errorf("job %s: %d allocations not %s within a minute", jobID, n, status)
}

func waitReadyNode(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var nodes []*structs.NodeListStub
		if resp, err := http.Get(addr + "/v1/nodes"); err == nil {
			json.NewDecoder(resp.Body).Decode(&nodes)
			resp.Body.Close()
		}
		if len(nodes) == 1 && nodes[0].Status == structs.NodeStatusReady {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no ready node after 30s")
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
