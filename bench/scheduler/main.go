// Command scheduler prints the scheduler's figures against real drover
// servers (the binary `go build` makes, run as separate processes on
// 127.0.0.1) with simulated client nodes (bench/nodesim):
//   - placements per second for one service job of count 5,000 on 500 and
//     on 2,000 nodes, and for 20 jobs of count 250 submitted at once on
//     500 nodes; a placement counts once its allocation is in the state
//     (the job summary), from the first submission until all are placed;
//     the time until the simulated clients have reported them all running
//     is printed beside it;
//   - evaluation latency p50/p99 (an evaluation's create to complete);
//   - the leader's RSS with 500 nodes and 5,000 allocations;
//   - the simulator's CPU share (getrusage of this process over the run).
//
// It runs with one server, then three (-servers). `make bench-scheduler`
// runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/bench/nodesim"
	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

func main() {
	serverCounts := flag.String("servers", "1,3", "cluster sizes to measure, comma-separated")
	small := flag.Int("nodes", 500, "simulated nodes of the 5,000 and the 20 × 250 figures")
	large := flag.Int("nodes-large", 2000, "simulated nodes of the second 5,000 figure")
	count := flag.Int("count", 5000, "count of the one big job")
	jobs := flag.Int("jobs", 20, "jobs submitted at once")
	jobCount := flag.Int("job-count", 250, "count of each of those jobs")
	timeout := flag.Duration("timeout", 3*time.Minute, "longest wait for one figure")
	profile := flag.String("profile", "", "directory to write the leader's CPU and heap profiles into (one server only)")
	profileFigure := flag.String("profile-figure", "big", "figure to profile: big (one job on the small fleet) or many")
	keep := flag.Bool("keep", false, "keep the servers' data directories and logs")
	verbose := flag.Bool("v", false, "print every evaluation's timeline")
	binFlag := flag.String("bin", "", "drover binary to run (default: go build of this tree)")
	logLevel := flag.String("log-level", "warn", "the servers' log level (their logs are kept with -keep)")
	flag.Parse()
	sizes, err := parseCounts(*serverCounts)
	if err != nil {
		fail(err)
	}
	dir, err := os.MkdirTemp("", "drover-bench-scheduler-")
	if err != nil {
		fail(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "bench-scheduler: keeping", dir)
	}
	bin := *binFlag
	if bin == "" {
		if bin, err = devagent.Build(context.Background(), dir); err != nil {
			fail(err)
		}
	}
	if *profileFigure != "big" && *profileFigure != "many" {
		fail(fmt.Errorf("-profile-figure %q: want big or many", *profileFigure))
	}
	b := &bench{bin: bin, dir: dir, timeout: *timeout, profile: *profile, profileFigure: *profileFigure, verbose: *verbose, logLevel: *logLevel}
	var rows []row
	for _, n := range sizes {
		r, err := b.run(n, *small, *large, *count, *jobs, *jobCount)
		if err != nil {
			fail(fmt.Errorf("%d server(s): %w", n, err))
		}
		rows = append(rows, r)
	}
	printTable(os.Stdout, rows, *small, *large, *count, *jobs, *jobCount)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-scheduler:", err)
	os.Exit(1)
}

func parseCounts(list string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-servers: %q is not a positive count", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("-servers: no cluster size")
	}
	return out, nil
}

type bench struct {
	bin     string
	dir     string
	timeout time.Duration
	profile string
	// profileFigure is the figure the profile covers: "big" or "many".
	profileFigure string
	runs          int
	verbose       bool
	logLevel      string
}

// row is the figures of one cluster size.
type row struct {
	servers int
	big     placement // count on the small fleet
	bigL    placement // count on the large fleet
	many    placement // jobs × jobCount on the small fleet
	evalP50 time.Duration
	evalP99 time.Duration
	evals   int
	rssMiB  float64
	simCPU  float64 // share of the machine, 0..1
	simCore float64 // share of one core
	simGo   int
}

// placement is one throughput figure.
type placement struct {
	allocs  int
	placed  time.Duration // submit to all in the state
	running time.Duration // submit to all reported running
}

func (p placement) rate() float64 {
	if p.placed <= 0 {
		return 0
	}
	return float64(p.allocs) / p.placed.Seconds()
}

// run measures one cluster size: a fresh cluster with the small fleet for
// the big job (then RSS) and the many jobs, and a fresh one with the large
// fleet for the big job again.
func (b *bench) run(servers, small, large, count, jobs, jobCount int) (row, error) {
	r := row{servers: servers}
	var evalLat []time.Duration
	cpu0, err := nodesim.CPU()
	if err != nil {
		return r, err
	}
	wall0 := time.Now()

	err = b.withCluster(servers, small, func(c *cluster, sim *nodesim.Sim) error {
		r.simGo = sim.Goroutines()
		profiled := func(figure string, fn func() error) error {
			if b.profile == "" || servers != 1 || figure != b.profileFigure {
				return fn()
			}
			stop, err := c.startProfile(b.profile)
			if err != nil {
				return err
			}
			if err := fn(); err != nil {
				return err
			}
			return stop()
		}
		var p placement
		var lat []time.Duration
		err := profiled("big", func() (err error) {
			p, lat, err = b.place(c, sim, "big", 1, count)
			return err
		})
		if err != nil {
			return err
		}
		r.big, evalLat = p, append(evalLat, lat...)
		if r.rssMiB, err = c.leaderRSS(); err != nil {
			return err
		}
		if err := c.stopJobs("big", 1, sim); err != nil {
			return err
		}
		err = profiled("many", func() (err error) {
			p, lat, err = b.place(c, sim, "many", jobs, jobCount)
			return err
		})
		if err != nil {
			return err
		}
		r.many, evalLat = p, append(evalLat, lat...)
		return nil
	})
	if err != nil {
		return r, err
	}
	err = b.withCluster(servers, large, func(c *cluster, sim *nodesim.Sim) error {
		p, lat, err := b.place(c, sim, "big", 1, count)
		if err != nil {
			return err
		}
		r.bigL, evalLat = p, append(evalLat, lat...)
		return nil
	})
	if err != nil {
		return r, err
	}

	cpu1, err := nodesim.CPU()
	if err != nil {
		return r, err
	}
	wall := time.Since(wall0)
	r.simCore = (cpu1 - cpu0).Seconds() / wall.Seconds()
	r.simCPU = r.simCore / float64(runtime.NumCPU())
	slices.Sort(evalLat)
	r.evals = len(evalLat)
	r.evalP50, r.evalP99 = percentile(evalLat, 50), percentile(evalLat, 99)
	return r, nil
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// withCluster starts servers, the simulator with nodes nodes, runs fn and
// tears everything down.
func (b *bench) withCluster(servers, nodes int, fn func(*cluster, *nodesim.Sim) error) error {
	b.runs++
	c, err := startCluster(b.bin, filepath.Join(b.dir, fmt.Sprintf("run%d", b.runs)), servers, b.logLevel)
	if err != nil {
		return err
	}
	defer c.stop()
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	fmt.Fprintf(os.Stderr, "bench-scheduler: %d server(s) up, leader %s; registering %d nodes\n", servers, c.leader().http, nodes)
	sim, err := nodesim.Start(ctx, nodesim.Config{Servers: c.rpcAddrs(), Nodes: nodes, Seed: uint64(b.runs)})
	if err != nil {
		return err
	}
	defer sim.Stop()
	select {
	case <-sim.Ready():
	case <-ctx.Done():
		return fmt.Errorf("%d of %d nodes ready after %s", sim.Stats().Ready, nodes, b.timeout)
	}
	if err := c.waitReadyNodes(ctx, nodes); err != nil {
		return err
	}
	return fn(c, sim)
}

// jobHCL is the benchmark's job: a service of mock_driver tasks that run
// until stopped, as in Nomad's scale tests.
const jobHCL = `
job "bench" {
  datacenters = ["*"]
  type        = "service"
  group "g" {
    count = 1
    task "t" {
      driver = "mock_driver"
      config {
        run_for = "1h"
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`

// pollInterval is how often the job summaries are read while jobs are
// placed: the figures are good to about this much.
const pollInterval = 20 * time.Millisecond

// place submits jobs jobs of count allocations at once and waits until
// all are placed, then until all are running. It returns the figure and
// the latencies of the jobs' evaluations.
func (b *bench) place(c *cluster, sim *nodesim.Sim, prefix string, jobs, count int) (placement, []time.Duration, error) {
	template, err := jobspec.Parse("bench.hcl", []byte(jobHCL), nil)
	if err != nil {
		return placement{}, nil, err
	}
	cl, err := c.client()
	if err != nil {
		return placement{}, nil, err
	}
	ids := make([]string, jobs)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	want := jobs * count
	fmt.Fprintf(os.Stderr, "bench-scheduler: submitting %d job(s) of count %d\n", jobs, count)
	start := time.Now()
	errs := make(chan error, jobs)
	var wg sync.WaitGroup
	for _, id := range ids {
		job := template.Copy()
		job.ID, job.Name = id, id
		job.TaskGroups[0].Count = count
		wg.Go(func() {
			if _, err := cl.Jobs().Register(job); err != nil {
				errs <- fmt.Errorf("register %s: %w", job.ID, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return placement{}, nil, err
	}
	p := placement{allocs: want}
	deadline := start.Add(b.timeout)
	for {
		placed, running, err := c.counts(cl, prefix)
		if err != nil {
			return p, nil, err
		}
		if p.placed == 0 && placed >= want {
			p.placed = time.Since(start)
		}
		if running >= want {
			p.running = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			return p, nil, fmt.Errorf("%s: %d of %d placed, %d running after %s (simulator: %+v)",
				prefix, placed, want, running, b.timeout, sim.Stats())
		}
		time.Sleep(pollInterval)
	}
	if b.verbose {
		perNode := map[string]int{}
		for _, id := range ids {
			allocs, _, err := cl.Jobs().Allocations(id, false, nil)
			if err != nil {
				return p, nil, err
			}
			for _, a := range allocs {
				perNode[a.NodeID]++
			}
		}
		most := 0
		for _, n := range perNode {
			most = max(most, n)
		}
		fmt.Fprintf(os.Stderr, "  %s: %d allocations on %d nodes, at most %d on one\n", prefix, want, len(perNode), most)
	}
	var lat []time.Duration
	for _, id := range ids {
		evals, _, err := cl.Jobs().Evaluations(id, nil)
		if err != nil {
			return p, nil, err
		}
		for _, ev := range evals {
			if b.verbose {
				fmt.Fprintf(os.Stderr, "  eval %.8s %s %-20s %-9s created +%s done +%s: %s\n", ev.ID, ev.JobID, ev.TriggeredBy, ev.Status,
					time.Duration(ev.CreateTime-start.UnixNano()).Round(time.Millisecond), time.Duration(ev.ModifyTime-start.UnixNano()).Round(time.Millisecond), ev.StatusDescription)
			}
			if ev.Status == structs.EvalStatusComplete && ev.TriggeredBy == structs.EvalTriggerJobRegister {
				lat = append(lat, time.Duration(ev.ModifyTime-ev.CreateTime))
			}
		}
	}
	return p, lat, nil
}

// cluster is a set of server processes on 127.0.0.1.
type cluster struct {
	agents []*agent
}

type agent struct {
	name               string
	http, rpc          string
	cmd                *exec.Cmd
	done               chan struct{}
	logPath            string
	debugURL, dataPath string
}

// freePort returns a port free for TCP and UDP on 127.0.0.1 (gossip
// uses both).
func freePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		pc.Close()
		return port, nil
	}
	return 0, errors.New("no free port for TCP and UDP")
}

func startCluster(bin, dir string, n int, logLevel string) (*cluster, error) {
	c := &cluster{}
	var serf []int
	type ports struct{ http, rpc, serf int }
	all := make([]ports, n)
	for i := range all {
		var err error
		for _, p := range []*int{&all[i].http, &all[i].rpc, &all[i].serf} {
			if *p, err = freePort(); err != nil {
				return nil, err
			}
		}
		serf = append(serf, all[i].serf)
	}
	for i, p := range all {
		name := fmt.Sprintf("s%d", i+1)
		data := filepath.Join(dir, name)
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, err
		}
		cfgPath := filepath.Join(data, "agent.hcl")
		if err := os.WriteFile(cfgPath, []byte("enable_debug = true\n"), 0o644); err != nil {
			return nil, err
		}
		args := []string{"agent", "-server", "-bootstrap-expect", strconv.Itoa(n), "-config", cfgPath,
			"-data-dir", data, "-bind", "127.0.0.1", "-node", name, "-log-level", logLevel,
			"-http-port", strconv.Itoa(p.http), "-rpc-port", strconv.Itoa(p.rpc), "-serf-port", strconv.Itoa(p.serf)}
		for j, s := range serf {
			if j != i {
				args = append(args, "-retry-join", fmt.Sprintf("127.0.0.1:%d", s))
			}
		}
		a := &agent{name: name, http: fmt.Sprintf("http://127.0.0.1:%d", p.http), rpc: fmt.Sprintf("127.0.0.1:%d", p.rpc),
			logPath: filepath.Join(data, "agent.log"), done: make(chan struct{}), dataPath: data}
		a.debugURL = a.http + "/debug/pprof"
		logf, err := os.Create(a.logPath)
		if err != nil {
			return nil, err
		}
		a.cmd = exec.Command(bin, args...)
		a.cmd.Stdout, a.cmd.Stderr = logf, logf
		if err := a.cmd.Start(); err != nil {
			logf.Close()
			c.stop()
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		go func() {
			a.cmd.Wait()
			logf.Close()
			close(a.done)
		}()
		c.agents = append(c.agents, a)
	}
	if err := c.waitLeader(60 * time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitLeader waits until every server names the same leader.
func (c *cluster) waitLeader(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var leaders []string
		for _, a := range c.agents {
			select {
			case <-a.done:
				return fmt.Errorf("server %s exited:\n%s", a.name, tail(a.logPath))
			default:
			}
			if l, err := a.leaderAddr(); err == nil && l != "" {
				leaders = append(leaders, l)
			}
		}
		if len(leaders) == len(c.agents) && !slices.ContainsFunc(leaders, func(l string) bool { return l != leaders[0] }) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no leader after %s; log of %s:\n%s", timeout, c.agents[0].name, tail(c.agents[0].logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (a *agent) leaderAddr() (string, error) {
	cl, err := api.NewClient(&api.Config{Address: a.http, HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if err != nil {
		return "", err
	}
	return cl.Status().Leader()
}

// leader is the server that leads now (the first one when unsure).
func (c *cluster) leader() *agent {
	l, err := c.agents[0].leaderAddr()
	if err == nil {
		for _, a := range c.agents {
			if a.rpc == l {
				return a
			}
		}
	}
	return c.agents[0]
}

func (c *cluster) rpcAddrs() []string {
	var out []string
	for _, a := range c.agents {
		out = append(out, a.rpc)
	}
	return out
}

// client talks to the leader, so that reads see every commit at once.
func (c *cluster) client() (*api.Client, error) {
	return api.NewClient(&api.Config{Address: c.leader().http,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}})
}

func (c *cluster) waitReadyNodes(ctx context.Context, n int) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	for {
		nodes, _, err := cl.Nodes().List(nil)
		if err != nil {
			return err
		}
		ready := 0
		for _, nd := range nodes {
			if nd.Status == structs.NodeStatusReady {
				ready++
			}
		}
		if ready >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d nodes ready: %w", ready, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// counts sums, over the jobs whose ID starts with prefix, the allocations
// placed (in any client status) and running.
func (c *cluster) counts(cl *api.Client, prefix string) (placed, running int, err error) {
	jobs, _, err := cl.Jobs().List(&api.QueryOptions{Prefix: prefix})
	if err != nil {
		return 0, 0, err
	}
	for _, j := range jobs {
		if j.JobSummary == nil {
			continue
		}
		for _, s := range j.JobSummary.Summary {
			placed += s.Starting + s.Running + s.Complete + s.Failed + s.Lost + s.Unknown
			running += s.Running
		}
	}
	return placed, running, nil
}

// stopJobs deregisters (purges) the jobs and waits until the simulator
// has reported their allocations complete.
func (c *cluster) stopJobs(prefix string, n int, sim *nodesim.Sim) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	before := sim.Stats().Complete
	want := int64(0)
	for i := range n {
		id := fmt.Sprintf("%s-%02d", prefix, i)
		allocs, _, err := cl.Jobs().Allocations(id, false, nil)
		if err != nil {
			return err
		}
		want += int64(len(allocs))
		if _, err := cl.Jobs().Deregister(id, false); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for sim.Stats().Complete-before < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("stop %s: %d of %d allocations complete", prefix, sim.Stats().Complete-before, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// leaderRSS reads VmRSS of the leader's process.
func (c *cluster) leaderRSS() (float64, error) {
	pid := c.leader().cmd.Process.Pid
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// startProfile starts a CPU profile of the leader over its
// /debug/pprof/profile route; the returned func waits for it and writes it
// with a heap profile into dir.
func (c *cluster) startProfile(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	a := c.leader()
	type result struct {
		data []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		data, err := get(a.debugURL + "/profile?seconds=10")
		ch <- result{data, err}
	}()
	return func() error {
		heap, err := get(a.debugURL + "/heap")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "heap.pprof"), heap, 0o644); err != nil {
			return err
		}
		r := <-ch
		if r.err != nil {
			return r.err
		}
		fmt.Fprintf(os.Stderr, "bench-scheduler: profiles in %s\n", dir)
		return os.WriteFile(filepath.Join(dir, "cpu.pprof"), r.data, 0o644)
	}, nil
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

func (c *cluster) stop() {
	for _, a := range c.agents {
		a.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, a := range c.agents {
		select {
		case <-a.done:
		case <-time.After(15 * time.Second):
			a.cmd.Process.Kill()
			<-a.done
		}
	}
}

func tail(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

func printTable(w io.Writer, rows []row, small, large, count, jobs, jobCount int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\ttarget")
	for _, r := range rows {
		fmt.Fprintf(tw, "\t%d server(s)", r.servers)
	}
	fmt.Fprintln(tw)
	line := func(name, target string, cell func(r row) string) {
		fmt.Fprintf(tw, "%s\t%s", name, target)
		for _, r := range rows {
			fmt.Fprintf(tw, "\t%s", cell(r))
		}
		fmt.Fprintln(tw)
	}
	rate := func(p placement) string {
		return fmt.Sprintf("%.0f/s (placed %s, running %s)", p.rate(), p.placed.Round(time.Millisecond), p.running.Round(time.Millisecond))
	}
	line(fmt.Sprintf("placements/s, 1 job × %d on %d nodes", count, small), ">= 4000/s", func(r row) string { return rate(r.big) })
	line(fmt.Sprintf("placements/s, 1 job × %d on %d nodes", count, large), ">= 3000/s", func(r row) string { return rate(r.bigL) })
	line(fmt.Sprintf("placements/s, %d jobs × %d on %d nodes", jobs, jobCount, small), ">= 2000/s", func(r row) string { return rate(r.many) })
	line("evaluation latency p50 / p99", "", func(r row) string {
		return fmt.Sprintf("%s / %s (%d evals)", r.evalP50.Round(time.Millisecond), r.evalP99.Round(time.Millisecond), r.evals)
	})
	line(fmt.Sprintf("leader RSS, %d nodes and %d allocations", small, count), "<= 350 MiB", func(r row) string { return fmt.Sprintf("%.0f MiB", r.rssMiB) })
	line("simulator CPU (share of machine / of one core)", "", func(r row) string {
		return fmt.Sprintf("%.0f%% / %.0f%% (%d goroutines)", 100*r.simCPU, 100*r.simCore, r.simGo)
	})
	tw.Flush()
	fmt.Fprintf(w, "\nmachine: %d CPUs, %s/%s. Placed = allocations in the state (job summary) from submission; running = reported running by the simulated clients.\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}
