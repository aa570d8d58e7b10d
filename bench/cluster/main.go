// Command cluster prints the figures of a 3-server drover cluster, each
// server a separate process in its own network namespace (see e2e/cluster):
//   - job registrations per second and HTTP latency p50/p99 with 1, 8 and
//     32 concurrent writers;
//   - leader failover after SIGKILL of the leader under write load (p50,
//     p90, max over -kills kills): time until the survivors agree on a new
//     leader, and until a write is accepted again; and what the writes
//     caught by the failover saw.
//
// It needs root (network namespaces). `make bench-cluster` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/internal/benchjob"
	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/structs"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long each throughput figure writes")
	kills := flag.Int("kills", 10, "leader kills for the failover figures (0 skips them)")
	writersFlag := flag.String("writers", "1,8,32", "comma-separated writer counts of the throughput rows through the leader (empty skips them)")
	followerWriters := flag.Int("follower-writers", 32, "writers of the row through a follower (0 skips it)")
	logLevel := flag.String("log-level", "info", "the servers' -log-level (info is the agent's default; the e2e harness uses debug)")
	profileDir := flag.String("profile", "", "a directory where the leader's and a follower's CPU profiles of the last leader row are saved (turns on enable_debug)")
	flag.Parse()
	writers, err := parseWriters(*writersFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-cluster:", err)
		os.Exit(2)
	}
	if *kills < 0 || *followerWriters < 0 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench-cluster: -kills and -follower-writers must not be negative, -duration must be positive")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "drover-bench-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-cluster:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	bin, err := devagent.Build(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-cluster:", err)
		os.Exit(1)
	}
	r := cluster.NewRunner("bench-cluster")
	if !r.Run(func() { bench(r, bin, *logLevel, *profileDir, *duration, writers, *followerWriters, *kills) }) {
		os.Exit(1)
	}
}

// servers is the size of the measured cluster.
const servers = 3

// writeTimeout bounds one registration, so a write lost in a failover
// shows as a failure instead of holding a writer.
const writeTimeout = 10 * time.Second

// parseWriters reads the -writers list: "1,8,32".
func parseWriters(list string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-writers: %q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func bench(t cluster.T, bin, logLevel, profileDir string, duration time.Duration, writers []int, followerWriters, kills int) {
	// The registration-only job: the cluster has no client, so registering
	// it goes through Raft and leaves a blocked evaluation, nothing more.
	template, err := benchjob.New("bench")
	if err != nil {
		t.Fatalf("%v", err)
	}
	jobs := &jobSource{template: template}

	opts := cluster.Options{Binary: bin, Servers: servers, ServerArgs: []string{"-log-level", logLevel}}
	if profileDir != "" {
		opts.ServerConfig = "enable_debug = true\n"
	}
	c := cluster.New(t, opts)
	leader := c.WaitLeader(60 * time.Second)
	follower := c.ServersExcept(leader)[0]
	t.Logf("leader %s (%s), follower %s (%s)", leader.Name, leader.HTTP, follower.Name, follower.HTTP)
	var rows []throughput
	idle := measureIdle(bin, 2*time.Second)
	if len(writers) > 0 || followerWriters > 0 {
		// Warm up: connections, the first Raft round trips.
		measureThroughput(t, jobs, bin, leader, 8, time.Second)
	}
	for i, n := range writers {
		var saved func()
		if profileDir != "" && i == len(writers)-1 {
			saved = startProfiles(t, profileDir, duration, leader, follower)
		}
		rows = append(rows, measureThroughput(t, jobs, bin, leader, n, duration))
		if saved != nil {
			saved()
		}
	}
	if followerWriters > 0 {
		rows = append(rows, measureThroughput(t, jobs, bin, follower, followerWriters, duration))
	}
	peakRSS := processPeakRSS(bin)

	var failovers []failover
	for i := range kills {
		t.Logf("failover %d of %d", i+1, kills)
		failovers = append(failovers, measureFailover(t, c, jobs))
	}
	printFigures(rows, idle, peakRSS, failovers, duration, logLevel)
}

// measureIdle is the CPU the servers use per second with no requests.
func measureIdle(bin string, d time.Duration) time.Duration {
	before := processCPU(bin)
	time.Sleep(d)
	return (processCPU(bin) - before) * time.Second / d
}

// jobSource hands out registration-only jobs with unique IDs.
type jobSource struct {
	template *structs.Job
	n        atomic.Int64
}

func (s *jobSource) next() *structs.Job {
	job := s.template.Copy()
	job.ID = fmt.Sprintf("bench-%07d", s.n.Add(1))
	job.Name = job.ID
	return job
}

func newClient(t cluster.T, a *cluster.Agent) *api.Client {
	cl, err := api.NewClient(&api.Config{
		Address: a.HTTP,
		HTTPClient: &http.Client{
			Timeout:   writeTimeout,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		},
	})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return cl
}

// throughput is one row of the registration figures.
type throughput struct {
	writers   int
	via       string
	ok        int
	errs      int
	elapsed   time.Duration
	latencies []time.Duration
	// serverCPU and benchCPU are the CPU time (user and system) the
	// servers' processes and this program used during the row.
	serverCPU, benchCPU time.Duration
}

// measureThroughput runs writers goroutines that register jobs through a
// back to back for d.
func measureThroughput(t cluster.T, jobs *jobSource, bin string, a *cluster.Agent, writers int, d time.Duration) throughput {
	via := "leader"
	if leader, err := a.Leader(); err != nil || leader != a.RPCAddr {
		via = "follower"
	}
	cl := newClient(t, a)
	res := throughput{writers: writers, via: via}
	var mu sync.Mutex
	var wg sync.WaitGroup
	serversBefore, benchBefore := processCPU(bin), processCPU("")
	start := time.Now()
	end := start.Add(d)
	for range writers {
		wg.Go(func() {
			var lat []time.Duration
			errs := 0
			for time.Now().Before(end) {
				begin := time.Now()
				if _, err := cl.Jobs().Register(jobs.next()); err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(begin))
			}
			mu.Lock()
			defer mu.Unlock()
			res.latencies = append(res.latencies, lat...)
			res.ok += len(lat)
			res.errs += errs
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.serverCPU = processCPU(bin) - serversBefore
	res.benchCPU = processCPU("") - benchBefore
	return res
}

// processCPU is the CPU time (user and system) used so far by the
// processes running the binary exe, or by this process when exe is "".
// It reads /proc; a process that ends between two readings drops out of
// the sum, which only the failover part does (and it is not measured).
func processCPU(exe string) time.Duration {
	if exe == "" {
		return readCPU("/proc/self/stat")
	}
	dirs, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		if target, err := os.Readlink("/proc/" + d.Name() + "/exe"); err == nil && target == exe {
			total += readCPU("/proc/" + d.Name() + "/stat")
		}
	}
	return total
}

// processPeakRSS is the largest peak resident set size (VmHWM) among the
// processes running exe, in bytes; 0 if none could be read.
func processPeakRSS(exe string) int64 {
	dirs, _ := os.ReadDir("/proc")
	var peak int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		if target, err := os.Readlink("/proc/" + d.Name() + "/exe"); err != nil || target != exe {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/status")
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					peak = max(peak, kb<<10)
				}
			}
		}
	}
	return peak
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times; 100 on
// every Linux this runs on.
const clockTicks = 100

// readCPU reads utime+stime from a /proc/PID/stat file; 0 if it is gone.
func readCPU(path string) time.Duration {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis are fixed: state is field 3, utime 14, stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// failover is one leader kill's figures.
type failover struct {
	newLeader  time.Duration // kill → the survivors agree on a leader
	writesBack time.Duration // kill → the first write accepted after it
	caught     []caughtWrite // load writes that failed after the kill
}

type caughtWrite struct {
	took time.Duration
	err  error
}

// loadWriters is the write load a failover happens under.
const loadWriters = 4

// measureFailover kills the leader under write load, times the failover,
// then starts the killed server again and waits until it caught up.
func measureFailover(t cluster.T, c *cluster.Cluster, jobs *jobSource) failover {
	leader := c.WaitLeader(60 * time.Second)
	survivors := c.ServersExcept(leader)

	// The load: writers sending to every server in turn, the leader too.
	clients := map[*cluster.Agent]*api.Client{}
	for _, s := range c.Servers() {
		clients[s] = newClient(t, s)
	}
	var (
		stop     = make(chan struct{})
		stopOnce sync.Once
		load     sync.WaitGroup
		mu       sync.Mutex
		killed   time.Time // set before the kill, read under mu
		fo       failover
	)
	for w := range loadWriters {
		load.Go(func() {
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := c.Servers()[i%len(c.Servers())]
				mu.Lock()
				kill := killed
				mu.Unlock()
				if s == leader && !kill.IsZero() {
					continue // a client would not send to a server it saw die
				}
				begin := time.Now()
				_, err := clients[s].Jobs().Register(jobs.next())
				if err == nil {
					continue
				}
				mu.Lock()
				if !killed.IsZero() && begin.After(killed.Add(-writeTimeout)) {
					fo.caught = append(fo.caught, caughtWrite{took: time.Since(begin), err: err})
				}
				mu.Unlock()
			}
		})
	}
	stopLoad := func() {
		stopOnce.Do(func() { close(stop) })
		load.Wait()
	}
	defer stopLoad()                   // also when a Fatalf ends this goroutine
	time.Sleep(500 * time.Millisecond) // let the load reach its pace

	mu.Lock()
	killed = time.Now()
	mu.Unlock()
	leader.Kill()

	// The probe: writes through the survivors, one after the other, until
	// one is accepted.
	probeDone := make(chan time.Duration, 1)
	go func() {
		for i := 0; ; i++ {
			s := survivors[i%len(survivors)]
			if _, err := clients[s].Jobs().Register(jobs.next()); err == nil {
				probeDone <- time.Since(killed)
				return
			}
			if time.Since(killed) > time.Minute {
				probeDone <- -1
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if _, err := cluster.FindLeader(time.Minute, survivors...); err != nil {
		t.Fatalf("after killing %s: %v", leader.Name, err)
	}
	fo.newLeader = time.Since(killed)
	fo.writesBack = <-probeDone
	if fo.writesBack < 0 {
		t.Fatalf("no write accepted within a minute of killing %s", leader.Name)
	}
	stopLoad()

	leader.Start()
	waitCaughtUp(t, c)
	return fo
}

// waitCaughtUp waits until every server names one leader with three
// voters, and every server's job table is at the same index.
func waitCaughtUp(t cluster.T, c *cluster.Cluster) {
	leader := c.WaitLeader(60 * time.Second)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		peers, err := leader.API().Status().Peers()
		same := err == nil && len(peers) == len(c.Servers())
		var first uint64
		for i, s := range c.Servers() {
			_, meta, err := s.API().Jobs().List(&api.QueryOptions{AllowStale: true, Prefix: "none-"})
			if err != nil {
				same = false
				break
			}
			if i == 0 {
				first = meta.LastIndex
			}
			same = same && meta.LastIndex == first
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not settle within 2 minutes after a restart (peers %v, %v)", peers, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func printFigures(rows []throughput, idle time.Duration, peakRSS int64, failovers []failover, duration time.Duration, logLevel string) {
	fmt.Printf("drover cluster figures: %d servers in network namespaces (-log-level %s), %d CPUs, %s\n\n", servers, logLevel, runtime.NumCPU(), runtime.Version())

	if len(rows) > 0 {
		printThroughput(rows, duration)
		fmt.Printf("(idle, the servers used %.0f ms of CPU per second; the largest server's peak RSS after the rows: %d MiB)\n",
			float64(idle)/float64(time.Millisecond), peakRSS>>20)
	}
	if len(failovers) == 0 {
		return
	}
	printFailovers(failovers)
}

func printThroughput(rows []throughput, duration time.Duration) {
	fmt.Printf("Job registrations (PUT /v1/jobs, %s per row; CPU: the 3 servers' and this program's CPU time per registration)\n", duration)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "writers\tvia\tregistrations/s\tp50\tp99\terrors\tCPU ms/reg (servers+bench)\ttarget\tNomad\n")
	targets := map[int][2]string{1: {">= 400/s", "~190/s"}, 32: {">= 2000/s", "~900/s"}}
	for _, r := range rows {
		tg := targets[r.writers]
		if r.via != "leader" {
			tg = [2]string{}
		}
		cpu := "-"
		if r.ok > 0 {
			perReg := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(r.ok) }
			cpu = fmt.Sprintf("%.2f+%.2f", perReg(r.serverCPU), perReg(r.benchCPU))
		}
		fmt.Fprintf(w, "%d\t%s\t%.0f\t%s\t%s\t%d\t%s\t%s\t%s\n", r.writers, r.via, float64(r.ok)/r.elapsed.Seconds(),
			pct(r.latencies, 50), pct(r.latencies, 99), r.errs, cpu, tg[0], tg[1])
	}
	w.Flush()
}

func printFailovers(failovers []failover) {
	fmt.Printf("\nLeader failover after SIGKILL of the leader under write load (%d kills)\n", len(failovers))
	var elect, back []time.Duration
	var caught []caughtWrite
	for _, f := range failovers {
		elect = append(elect, f.newLeader)
		back = append(back, f.writesBack)
		caught = append(caught, f.caught...)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "from the kill to\tp50\tp90\tmax\ttarget\tNomad (p50, max)\n")
	fmt.Fprintf(w, "a new leader\t%s\t%s\t%s\tp50 <= 1.5s\t1.9s\n", pct(elect, 50), pct(elect, 90), pct(elect, 100))
	fmt.Fprintf(w, "a write accepted again\t%s\t%s\t%s\tp50 <= 2.0s, max <= 5s\t2.9s, 3.9s\n", pct(back, 50), pct(back, 90), pct(back, 100))
	w.Flush()

	var took []time.Duration
	kinds := map[string]int{}
	for _, cw := range caught {
		took = append(took, cw.took)
		kinds[errorKind(cw.err)]++
	}
	fmt.Printf("\nWrites caught by the failovers: %d failed", len(caught))
	if len(caught) > 0 {
		fmt.Printf("; time to fail p50 %s, max %s", pct(took, 50), pct(took, 100))
	}
	fmt.Println()
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		fmt.Printf("  %4d  %s\n", kinds[k], k)
	}
}

var address = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+(:\d+)?`)

// errorKind shortens an error to what kind of failure it is: the agent's
// answer, or the transport's.
func errorKind(err error) string {
	var se *api.StatusError
	if errors.As(err, &se) {
		// The same failure through different servers is one kind.
		msg := address.ReplaceAllString(se.Body, "ADDR")
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
		return fmt.Sprintf("HTTP %d: %s", se.Code, msg)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return "connection refused (the killed server)"
	case strings.Contains(msg, "Client.Timeout"), strings.Contains(msg, "deadline exceeded"):
		return fmt.Sprintf("no answer within %s", writeTimeout)
	case strings.Contains(msg, "EOF"), strings.Contains(msg, "connection reset"):
		return "connection closed by the killed server"
	}
	return msg
}

// pct is the p-th percentile of ds, "-" when there is none.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p+99)/100 - 1
	i = max(0, min(i, len(s)-1))
	d := s[i]
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
