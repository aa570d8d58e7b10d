// Command bench prints drover's headline figures next to their baselines,
// measured in one run on this machine:
//   - submit → running for one container (p50, p90 over -runs runs), next to
//     a bare Docker create+start of the same image;
//   - the idle RSS of a dev agent;
//   - submit → all running for larger counts, next to the engine creating
//     and starting as many containers in parallel itself (parallel.go).
package main

import (
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

// manyRuns is how many times each count is measured.
var manyRuns = 3

// dataParent, when set, holds the agent's data dir (e.g. a tmpfs, to see
// what the client's disk writes cost).
var dataParent string

// agentBin, when set, is the drover binary measured instead of one built
// from this tree.
var agentBin string

func main() {
	runs := flag.Int("runs", 20, "measurements of the submit -> running figure of one container")
	flag.IntVar(&manyRuns, "many-runs", manyRuns, "measurements of each submit -> all running figure")
	counts := flag.String("counts", "10,50", "counts of the submit -> all running figures, comma-separated")
	flag.StringVar(&agentBin, "agent", "", "drover binary to measure (default: built from this tree), to compare two builds")
	flag.StringVar(&dataParent, "data-dir", "", "directory in which the agent's data dir is made (default: the system's temporary directory)")
	flag.Parse()
	manyCounts = nil
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -counts: %q is not a positive count\n", s)
			os.Exit(2)
		}
		manyCounts = append(manyCounts, n)
	}
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
	bin := agentBin
	if bin == "" {
		if bin, err = devagent.Build(ctx, dir); err != nil {
			return err
		}
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

	dataDir := dir + "/data"
	if dataParent != "" {
		if dataDir, err = os.MkdirTemp(dataParent, "drover-bench-data-"); err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
	}
	agent, err := devagent.Start(ctx, bin, dataDir)
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
	// Issue 6's figure: submit until every instance runs, for larger
	// counts, next to the engine doing the same starts without drover.
	opts, err := droverOptions(ctx, docker, agent.Addr)
	if err != nil {
		return fmt.Errorf("reading drover's container options: %w", err)
	}
	var many []*manyResult
	for _, count := range manyCounts {
		r, err := measureMany(ctx, docker, agent.Addr, dir, opts, count, manyRuns)
		if err != nil {
			return fmt.Errorf("submit to all running, count %d: %w", count, err)
		}
		many = append(many, r)
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "figure\tp50\tp90\tratio to bare Docker (p50)\ttarget\n")
	fmt.Fprintf(w, "bare Docker create+start\t%s\t%s\t1.00x\t\n", pct(bare, 50), pct(bare, 90))
	fmt.Fprintf(w, "drover submit -> running\t%s\t%s\t%.2fx\t<= 1.5x\n", pct(submit, 50), pct(submit, 90),
		float64(pct(submit, 50))/float64(pct(bare, 50)))
	fmt.Fprintf(w, "dev agent idle RSS\t%.1f MiB\t\t\t<= 60 MiB\n", float64(rss)/1024)
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Printf("\nsubmit -> all running, %d runs each; each run measures the four rows back to back\n", manyRuns)
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "figure\tp50\tmax\tdrover / this (p50 of per-run ratios)\ttarget\n")
	for _, r := range many {
		target := ""
		if r.count == 50 {
			target = "<= 3.5s"
		}
		fmt.Fprintf(w, "drover: submit -> all %d running\t%s\t%s\t\t%s\n", r.count, pct(r.drover, 50), pct(r.drover, 100), target)
		fmt.Fprintf(w, "  bare engine, %d create+start in parallel, drover's options\t%s\t%s\t%.2fx\t\n", r.count,
			pct(r.bareSame, 50), pct(r.bareSame, 100), ratioP50(r.drover, r.bareSame))
		fmt.Fprintf(w, "  bare engine, %d create+start in parallel, minimal options\t%s\t%s\t%.2fx\t\n", r.count,
			pct(r.bareMin, 50), pct(r.bareMin, 100), ratioP50(r.drover, r.bareMin))
		fmt.Fprintf(w, "  drover's docker driver alone, %d StartTask in parallel\t%s\t%s\t%.2fx\t\n", r.count,
			pct(r.drvAlone, 50), pct(r.drvAlone, 100), ratioP50(r.drover, r.drvAlone))
	}
	for _, r := range many {
		phaseRows(w, r)
	}
	return w.Flush()
}

// ratioP50 is the median of the per-run ratios a[i]/b[i].
func ratioP50(a, b []time.Duration) float64 {
	rs := make([]float64, len(a))
	for i := range a {
		rs[i] = float64(a[i]) / float64(b[i])
	}
	slices.Sort(rs)
	return rs[(len(rs)-1)/2]
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
// allocations running, following the allocation list with blocking queries.
func measureSubmitToRunning(addr string, runs, count int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range runs {
		id := fmt.Sprintf("bench-%d-%d", count, i)
		start := time.Now()
		if err := registerJob(addr, benchJob(id, count)); err != nil {
			return nil, err
		}
		if _, err := waitAllocs(addr, id, count, structs.AllocClientStatusRunning); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
		if err := stopJob(addr, id, count); err != nil {
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
// them have the client status, and returns when the bench first saw each
// with it.
func waitAllocs(addr, jobID string, n int, status string) (map[string]time.Time, error) {
	var index uint64
	seen := map[string]time.Time{}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("%s/v1/job/%s/allocations?index=%d&wait=10s", addr, jobID, index))
		if err != nil {
			return nil, err
		}
		var allocs []*structs.AllocListStub
		err = json.NewDecoder(resp.Body).Decode(&allocs)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		now := time.Now()
		index, _ = strconv.ParseUint(resp.Header.Get("X-Nomad-Index"), 10, 64)
		for _, a := range allocs {
			if _, ok := seen[a.ID]; !ok && a.ClientStatus == status {
				seen[a.ID] = now
			}
		}
		if len(seen) >= n {
			return seen, nil
		}
	}
	return nil, fmt.Errorf("job %s: %d allocations not %s within a minute", jobID, n, status)
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
