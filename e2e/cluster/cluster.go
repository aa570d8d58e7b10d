// Package cluster runs a cluster of real drover agents for end-to-end tests
// and benchmarks: each agent is a separate process of the drover binary in
// a Linux network namespace of its own, on a private /24 behind a bridge,
// so a test can kill, stop, pause, restart, wipe and partition agents and
// the faults are real (a partition drops packets in the kernel).
//
//	c := cluster.New(t, cluster.Options{Binary: bin, Servers: 3})
//	leader := c.WaitLeader(30 * time.Second)
//	leader.Kill()
//	next := c.WaitLeader(30 * time.Second)
//	c.Partition([]*cluster.Agent{next}, c.ServersExcept(next))
//	c.Heal()
//
// It needs root, iproute2 and iptables; without them New skips the test,
// unless DROVER_REQUIRE_NETNS=1, which makes that a failure (CI sets it).
// Everything New makes is removed in the test's cleanup, and what a crashed
// run left behind is removed by the next run.
// On failure the cleanup prints the end of every agent's log; set
// DROVER_E2E_LOG_DIR to keep the whole logs there.
//
// Import it from _test.go files and benchmark programs only.
package cluster

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-project/drover/api"
)

// T is what the harness needs of a test; *testing.T and *testing.B have
// it, and a benchmark program can provide it.
type T interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Cleanup(func())
}

// Options describe a cluster.
type Options struct {
	// Binary is the drover binary every agent runs.
	Binary string
	// Servers and Clients are how many agents of each kind to start.
	Servers int
	Clients int
	// BootstrapExpect is the servers' -bootstrap-expect; 0 means Servers.
	// 1 starts every server as a single-node cluster of its own, with no
	// -bootstrap-expect and no -retry-join.
	BootstrapExpect int
	// ServerArgs and ClientArgs are appended to the command line of each
	// server and each client.
	ServerArgs []string
	ClientArgs []string
	// ServerConfig and ClientConfig, when set, are agent config files (HCL)
	// each server and each client loads with -config; flags still win.
	ServerConfig string
	ClientConfig string
	// PublishPorts lets the clients run containers that publish ports and
	// use the clients' DNS, as on separate machines: each client publishes
	// on an address of its own in the root namespace (Agent.PublishIP),
	// from a dynamic port range of its own, and its containers' DNS server
	// is the client's address (publish.go).
	PublishPorts bool
}

// RequireNetnsEnv names the variable that turns a skip for lack of
// network namespaces into a failure.
const RequireNetnsEnv = "DROVER_REQUIRE_NETNS"

// LogDirEnv names the variable of a directory where the cleanup copies
// every agent's whole log when a test failed.
const LogDirEnv = "DROVER_E2E_LOG_DIR"

// Cluster is a running set of agents.
type Cluster struct {
	t    T
	bin  string
	dir  string
	net  *network
	http *http.Client

	servers []*Agent
	clients []*Agent

	helpOnce  sync.Once
	agentHelp string // `drover agent -h`

	mu          sync.Mutex
	partitioned []*Agent // agents with drop rules in their namespace
}

// New starts a cluster and registers its removal with t.Cleanup. It waits
// until every agent's HTTP API listens, not for a leader: see WaitLeader.
func New(t T, opts Options) *Cluster {
	t.Helper()
	if err := checkNetns(); err != nil {
		if os.Getenv(RequireNetnsEnv) == "1" {
			t.Fatalf("%v (%s=1)", err, RequireNetnsEnv)
		}
		t.Skipf("%v; set %s=1 to make this a failure", err, RequireNetnsEnv)
	}
	if opts.Binary == "" {
		t.Fatalf("cluster.Options.Binary: the drover binary is required")
	}
	if opts.Servers < 0 || opts.Clients < 0 || opts.Servers+opts.Clients == 0 || opts.Servers+opts.Clients > maxAgents {
		t.Fatalf("cluster.Options: %d servers and %d clients; want 1 to %d agents", opts.Servers, opts.Clients, maxAgents)
	}
	if opts.Clients > 0 && opts.Servers == 0 {
		t.Fatalf("cluster.Options: clients need at least one server to join")
	}
	dir, err := os.MkdirTemp("", "drover-cluster-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	c := &Cluster{
		t:   t,
		bin: opts.Binary,
		dir: dir,
		http: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		}},
	}
	// Registered before anything exists, so whatever part gets made is
	// removed even when a later step fails.
	t.Cleanup(c.cleanup)

	if c.net, err = newNetwork(); err != nil {
		t.Fatalf("cluster network: %v", err)
	}
	expect := opts.BootstrapExpect
	if expect == 0 {
		expect = opts.Servers
	}
	serverExtra, err := c.withConfigFile("server.hcl", opts.ServerConfig, opts.ServerArgs)
	if err != nil {
		t.Fatalf("%v", err)
	}
	clientExtra, err := c.withConfigFile("client.hcl", opts.ClientConfig, opts.ClientArgs)
	if err != nil {
		t.Fatalf("%v", err)
	}
	for i := range opts.Servers + opts.Clients {
		server := i < opts.Servers
		a, err := c.newAgent(i+1, server)
		if err != nil {
			t.Fatalf("cluster agent: %v", err)
		}
		if server {
			a.args = c.serverArgs(a, expect, serverExtra)
			c.servers = append(c.servers, a)
		} else {
			extra := clientExtra
			if opts.PublishPorts {
				path, err := c.publishConfig(a, len(c.clients)+1, opts.Clients)
				if err != nil {
					t.Fatalf("cluster agent %s: %v", a.Name, err)
				}
				extra = append([]string{"-config", path}, clientExtra...)
			}
			a.args = c.clientArgs(a, extra)
			c.clients = append(c.clients, a)
		}
	}
	if err := c.startAll(); err != nil {
		t.Fatalf("%v", err)
	}
	return c
}

// withConfigFile writes config, when there is one, to a file named name
// and returns args with a -config flag for it.
func (c *Cluster) withConfigFile(name, config string, args []string) ([]string, error) {
	if config == "" {
		return args, nil
	}
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return nil, err
	}
	return append([]string{"-config", path}, args...), nil
}

// newAgent makes the namespace, data dir and API client of agent index.
func (c *Cluster) newAgent(index int, server bool) (*Agent, error) {
	ns, ip, err := c.net.addNamespace(index)
	if err != nil {
		return nil, err
	}
	name := "server-" + strconv.Itoa(index)
	if !server {
		name = "client-" + strconv.Itoa(index-len(c.servers))
	}
	a := &Agent{
		Name:     name,
		Server:   server,
		IP:       ip,
		HTTP:     fmt.Sprintf("http://%s:%d", ip, HTTPPort),
		RPCAddr:  fmt.Sprintf("%s:%d", ip, RPCPort),
		SerfAddr: fmt.Sprintf("%s:%d", ip, SerfPort),
		DataDir:  filepath.Join(c.dir, name, "data"),
		Netns:    ns,
		c:        c,
		logPath:  filepath.Join(c.dir, name+".log"),
	}
	if err := os.MkdirAll(a.DataDir, 0o755); err != nil {
		return nil, err
	}
	a.client, err = api.NewClient(&api.Config{
		Address:    a.HTTP,
		HTTPClient: &http.Client{Transport: c.http.Transport, Timeout: 30 * time.Second},
	})
	return a, err
}

func (c *Cluster) commonArgs(a *Agent) []string {
	return []string{
		"-bind", a.IP,
		"-data-dir", a.DataDir,
		"-node", a.Name,
		"-http-port", strconv.Itoa(HTTPPort),
		"-rpc-port", strconv.Itoa(RPCPort),
		"-log-level", "debug",
	}
}

// serverArgs: every server but the first joins the first one's gossip
// address, which tests that one address is enough to form a cluster.
func (c *Cluster) serverArgs(a *Agent, expect int, extra []string) []string {
	args := append([]string{"agent", "-server"}, c.commonArgs(a)...)
	switch {
	case expect > 1:
		args = append(args, "-bootstrap-expect", strconv.Itoa(expect), "-serf-port", strconv.Itoa(SerfPort))
		if len(c.servers) > 0 {
			args = append(args, "-retry-join", c.servers[0].SerfAddr)
		}
	case c.agentHasFlag("-bootstrap-expect"):
		// Said explicitly where the agent knows the flag; an agent older
		// than it bootstraps a lone server by itself.
		args = append(args, "-bootstrap-expect", "1")
	}
	return append(args, extra...)
}

// agentHasFlag reports whether `drover agent -h` lists a flag.
func (c *Cluster) agentHasFlag(flag string) bool {
	c.helpOnce.Do(func() {
		out, _ := exec.Command(c.bin, "agent", "-h").CombinedOutput() // -h exits 0 or 1 by version; the text is what counts
		c.agentHelp = string(out)
	})
	return strings.Contains(c.agentHelp, flag+" ")
}

// clientArgs: a client finds the servers by joining the first server's
// gossip address.
func (c *Cluster) clientArgs(a *Agent, extra []string) []string {
	args := append([]string{"agent", "-client"}, c.commonArgs(a)...)
	args = append(args, "-serf-port", strconv.Itoa(SerfPort), "-retry-join", c.servers[0].SerfAddr)
	return append(args, extra...)
}

// startAll starts every agent at once and waits for each to serve.
func (c *Cluster) startAll() error {
	agents := c.Agents()
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() { errs[i] = a.start() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Servers are the server agents, in order: server-1, server-2, ...
func (c *Cluster) Servers() []*Agent { return slices.Clone(c.servers) }

// Clients are the client agents, in order.
func (c *Cluster) Clients() []*Agent { return slices.Clone(c.clients) }

// Agents are the servers, then the clients.
func (c *Cluster) Agents() []*Agent { return append(c.Servers(), c.clients...) }

// ServersExcept are the servers other than the ones given.
func (c *Cluster) ServersExcept(not ...*Agent) []*Agent {
	var out []*Agent
	for _, s := range c.servers {
		if !slices.Contains(not, s) {
			out = append(out, s)
		}
	}
	return out
}

// GatewayIP is the address of the root namespace on the cluster's network:
// where the test itself is seen from the agents.
func (c *Cluster) GatewayIP() string { return c.net.gatewayIP() }

// leaderPoll is how often WaitLeader asks; small, since benchmarks time
// failovers with it.
const leaderPoll = 50 * time.Millisecond

// WaitLeader waits until every running, unpaused server names the same
// leader, which is one of them, and returns it. It fails the test after
// timeout.
func (c *Cluster) WaitLeader(timeout time.Duration) *Agent {
	c.t.Helper()
	var live []*Agent
	for _, s := range c.servers {
		if s.Running() && !s.Paused() {
			live = append(live, s)
		}
	}
	return c.WaitLeaderAmong(timeout, live...)
}

// WaitLeaderAmong waits until the given servers all name the same leader,
// which is one of them: for instance the majority side of a partition.
func (c *Cluster) WaitLeaderAmong(timeout time.Duration, group ...*Agent) *Agent {
	c.t.Helper()
	leader, err := FindLeader(timeout, group...)
	if err != nil {
		c.t.Fatalf("%v", err)
	}
	return leader
}

// FindLeader is WaitLeaderAmong returning an error instead of failing the
// test, for use outside the test's goroutine.
func FindLeader(timeout time.Duration, group ...*Agent) (*Agent, error) {
	if len(group) == 0 {
		return nil, errors.New("wait for a leader: no running server to ask")
	}
	deadline := time.Now().Add(timeout)
	answers := make([]string, len(group))
	errs := make([]error, len(group))
	for {
		var wg sync.WaitGroup
		for i, a := range group {
			wg.Go(func() { answers[i], errs[i] = a.Leader() })
		}
		wg.Wait()
		if leader := agreedLeader(group, answers, errs); leader != nil {
			return leader, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no leader agreed on by %v within %s; last answers %s", group, timeout, describeAnswers(group, answers, errs))
		}
		time.Sleep(leaderPoll)
	}
}

// agreedLeader is the member of group that every member names, or nil.
func agreedLeader(group []*Agent, answers []string, errs []error) *Agent {
	for i := range group {
		if errs[i] != nil || answers[i] == "" || answers[i] != answers[0] {
			return nil
		}
	}
	for _, a := range group {
		if a.RPCAddr == answers[0] {
			return a
		}
	}
	return nil
}

func describeAnswers(group []*Agent, answers []string, errs []error) string {
	s := ""
	for i, a := range group {
		if errs[i] != nil {
			s += fmt.Sprintf("[%s: %v] ", a.Name, errs[i])
		} else {
			s += fmt.Sprintf("[%s: %q] ", a.Name, answers[i])
		}
	}
	return s
}

// Partition cuts the network between the groups: every agent drops every
// packet from and to the agents of the other groups, in its own
// namespace's filter table, so established connections stall too. Agents
// in no group keep talking to everyone, and every agent still answers the
// test from the root namespace. Heal undoes it.
func (c *Cluster) Partition(groups ...[]*Agent) {
	c.t.Helper()
	owner := map[*Agent]int{}
	for g, group := range groups {
		for _, a := range group {
			if _, dup := owner[a]; dup {
				c.t.Fatalf("partition: %s is in two groups", a.Name)
			}
			owner[a] = g
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for a, g := range owner {
		var drop []string
		for b, h := range owner {
			if h != g {
				drop = append(drop, b.IP)
			}
		}
		slices.Sort(drop)
		if err := dropBetween(a.Netns, drop); err != nil {
			c.t.Fatalf("partition %s: %v", a.Name, err)
		}
		if !slices.Contains(c.partitioned, a) {
			c.partitioned = append(c.partitioned, a)
		}
	}
}

// Isolate cuts one agent off from every other agent.
func (c *Cluster) Isolate(a *Agent) {
	c.t.Helper()
	var others []*Agent
	for _, b := range c.Agents() {
		if b != a {
			others = append(others, b)
		}
	}
	c.Partition([]*Agent{a}, others)
}

// Heal removes every partition.
func (c *Cluster) Heal() {
	c.t.Helper()
	if err := c.heal(); err != nil {
		c.t.Fatalf("heal: %v", err)
	}
}

func (c *Cluster) heal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, a := range c.partitioned {
		errs = append(errs, allowAll(a.Netns))
	}
	c.partitioned = nil
	return errors.Join(errs...)
}

// cleanup stops every agent, prints their logs if the test failed and
// removes the network and the files.
func (c *Cluster) cleanup() {
	var wg sync.WaitGroup
	for _, a := range c.Agents() {
		wg.Go(func() {
			if err := a.stop(); err != nil {
				c.t.Errorf("cluster cleanup: %v", err)
			}
		})
	}
	wg.Wait()
	if c.t.Failed() {
		c.dumpLogs()
	}
	if c.net != nil {
		if err := c.net.teardown(); err != nil {
			c.t.Errorf("cluster cleanup: %v", err)
		}
	}
	c.http.CloseIdleConnections()
	if err := os.RemoveAll(c.dir); err != nil {
		c.t.Errorf("cluster cleanup: %v", err)
	}
}

// dumpTail is how many lines of each agent's log a failure prints.
const dumpTail = 300

// unsafeName matches what a test name may hold that a directory name
// should not.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (c *Cluster) dumpLogs() {
	keep := os.Getenv(LogDirEnv)
	if keep != "" {
		keep = filepath.Join(keep, unsafeName.ReplaceAllString(c.t.Name(), "_"))
		if err := os.MkdirAll(keep, 0o755); err != nil {
			c.t.Errorf("keep logs: %v", err)
			keep = ""
		}
	}
	for _, a := range c.Agents() {
		c.t.Logf("==== log of %s (%s, %s), last %d lines:\n%s", a.Name, a.IP, a.Netns, dumpTail, a.logTail(dumpTail))
		if keep != "" {
			if err := os.WriteFile(filepath.Join(keep, a.Name+".log"), []byte(a.Log()), 0o644); err != nil {
				c.t.Errorf("keep logs: %v", err)
			}
		}
	}
	if keep != "" {
		c.t.Logf("whole agent logs kept in %s", keep)
	}
}
