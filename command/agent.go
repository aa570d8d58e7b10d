package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/agent"
	"github.com/drover-project/drover/internal/logging"
)

func init() {
	Register("agent", func(m Meta) cli.Command { return &AgentCommand{Stdout: m.Stdout, Stderr: m.Stderr} })
}

// AgentCommand is `drover agent`: it runs a server, a client, or both until
// SIGINT or SIGTERM.
type AgentCommand struct {
	Stdout io.Writer
	Stderr io.Writer
}

func (c *AgentCommand) Synopsis() string { return "Run a drover agent (server, client, or both)" }

func (c *AgentCommand) Help() string {
	return strings.TrimSpace(`
Usage: drover agent [options]

  Runs a drover agent until it receives SIGINT or SIGTERM. With -dev the
  agent is a single-node server and a client in one process, keeping its
  state in a temporary directory unless -data-dir is given.

Options:

  -dev                 Run a server and a client in one process (development).
  -server              Run a server.
  -client              Run a client.
  -enable-mock-driver  Add Nomad's mock_driver (tasks that only sleep and exit),
                       for scale tests without Docker.
  -config FILE         Load an HCL agent config file. Repeatable; later files
                       override earlier ones and flags override files.
  -data-dir DIR        Where Raft, snapshots and the client's state live.
  -bind ADDR           Address every listener binds to (default 127.0.0.1).
  -http-port N         HTTP API port (default 4746; 0 picks a free port).
  -rpc-port N          Raft and internal RPC port (default 4747; 0 picks a free port).
  -serf-port N         Gossip port, TCP and UDP (default 4748; 0 picks a free
                       port, the default under -dev).
  -node NAME           This agent's name (default: the host name).
  -dc NAME             Datacenter (default dc1).
  -region NAME         Region (default global).
  -log-level LEVEL     trace, debug, info, warn or error (default info).

Cluster Options (servers):

  -bootstrap-expect N  How many servers form the cluster: each waits until N
                       servers are in its gossip pool, then they elect a
                       leader. 1 runs a cluster of one.
  -retry-join ADDR     A server to join ("host" or "host:port", gossip port
                       4748 by default). Repeatable; one that answers is
                       enough. Attempts repeat with back-off until one works.
  -retry-interval DUR  Longest wait between join attempts (default 30s).
  -retry-max N         Join attempts before giving up (default 0: no limit).

Client Options:

  -servers ADDRS       RPC addresses of servers ("host" or "host:port", port
                       4747 by default), comma-separated or repeated. A
                       client also finds the servers by gossip through
                       -retry-join (the gossip address of any member), which
                       keeps its list of live servers current.
`)
}

// repeatable collects a flag given several times.
type repeatable []string

func (r *repeatable) String() string     { return strings.Join(*r, ",") }
func (r *repeatable) Set(v string) error { *r = append(*r, v); return nil }

func (c *AgentCommand) Run(args []string) int {
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	cfg, err := c.config(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	level, err := logging.ParseLevel(cfg.LogLevel)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	log := logging.New(stderr, level)

	// Listen for signals before starting, so an early SIGTERM still gets
	// a clean shutdown.
	sigCh := make(chan os.Signal, 2)
	signal.Notify(sigCh, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigCh)

	a, err := agent.New(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "Error starting agent: %v\n", err)
		return 1
	}
	roles := []string{}
	if cfg.Server.Enabled {
		roles = append(roles, "server")
	}
	if cfg.Client.Enabled {
		roles = append(roles, "client")
	}
	fmt.Fprintf(stdout, "==> drover agent configuration:\n")
	fmt.Fprintf(stdout, "        Node name: %s\n", cfg.Name)
	fmt.Fprintf(stdout, "             Role: %s\n", strings.Join(roles, " + "))
	fmt.Fprintf(stdout, "Region/Datacenter: %s/%s\n", cfg.Region, cfg.Datacenter)
	fmt.Fprintf(stdout, "         Data dir: %s\n", cfg.DataDir)
	fmt.Fprintf(stdout, "==> drover agent started; HTTP API at %s\n", a.HTTPAddr())

	sig := <-sigCh
	fmt.Fprintf(stdout, "==> caught %s, shutting down\n", sig)
	// leave_on_interrupt / leave_on_terminate: leave the cluster on purpose
	// first, so the leader takes this server out of the Raft configuration.
	if (sig == os.Interrupt && cfg.LeaveOnInterrupt) || (sig == syscall.SIGTERM && cfg.LeaveOnTerminate) {
		fmt.Fprintln(stdout, "==> leaving the cluster")
		if err := a.Leave(); err != nil {
			fmt.Fprintf(stderr, "Error leaving the cluster: %v\n", err)
		}
	}
	go func() {
		// A second signal means "now".
		<-sigCh
		os.Exit(1)
	}()
	a.Shutdown()
	fmt.Fprintln(stdout, "==> drover agent stopped")
	return 0
}

// config merges defaults, config files and flags, in that order.
func (c *AgentCommand) config(args []string, stderr io.Writer) (*agent.Config, error) {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, c.Help()) }
	var (
		files                                  repeatable
		dev, server, client, mockDriver        bool
		dataDir, bind, node, dc, region, level string
		httpPort, rpcPort                      int
		// Clustering (config_cluster.go).
		serfPort, bootstrapExpect, retryMax int
		retryJoin                           repeatable
		retryInterval                       time.Duration
		// Remote servers of a client (config_client.go).
		servers repeatable
	)
	fs.Var(&servers, "servers", "")
	fs.Var(&files, "config", "")
	fs.BoolVar(&dev, "dev", false, "")
	fs.BoolVar(&server, "server", false, "")
	fs.BoolVar(&client, "client", false, "")
	fs.BoolVar(&mockDriver, "enable-mock-driver", false, "")
	fs.StringVar(&dataDir, "data-dir", "", "")
	fs.StringVar(&bind, "bind", "", "")
	fs.StringVar(&node, "node", "", "")
	fs.StringVar(&dc, "dc", "", "")
	fs.StringVar(&region, "region", "", "")
	fs.StringVar(&level, "log-level", "", "")
	fs.IntVar(&httpPort, "http-port", -1, "")
	fs.IntVar(&rpcPort, "rpc-port", -1, "")
	fs.IntVar(&serfPort, "serf-port", -1, "")
	fs.IntVar(&bootstrapExpect, "bootstrap-expect", -1, "")
	fs.Var(&retryJoin, "retry-join", "")
	fs.DurationVar(&retryInterval, "retry-interval", 0, "")
	fs.IntVar(&retryMax, "retry-max", -1, "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	cfg := agent.DefaultConfig()
	if dev {
		// Dev agents gossip on a free port, so several run side by side;
		// a config file or -serf-port may still name one.
		cfg.Ports.Serf = 0
	}
	for _, f := range files {
		if err := cfg.LoadConfigFile(f); err != nil {
			return nil, err
		}
	}
	if dev {
		cfg.Dev = true
		cfg.Server.Enabled = true
		cfg.Client.Enabled = true
		cfg.Server.BootstrapExpect = 1
	}
	cfg.Server.Enabled = cfg.Server.Enabled || server
	cfg.Client.Enabled = cfg.Client.Enabled || client
	cfg.Client.EnableMockDriver = cfg.Client.EnableMockDriver || mockDriver
	for dst, v := range map[*string]string{&cfg.DataDir: dataDir, &cfg.BindAddr: bind, &cfg.Name: node, &cfg.Datacenter: dc, &cfg.Region: region, &cfg.LogLevel: level} {
		if v != "" {
			*dst = v
		}
	}
	if httpPort >= 0 {
		cfg.Ports.HTTP = httpPort
	}
	if rpcPort >= 0 {
		cfg.Ports.RPC = rpcPort
	}
	if serfPort >= 0 {
		cfg.Ports.Serf = serfPort
	}
	if bootstrapExpect >= 0 {
		cfg.Server.BootstrapExpect = bootstrapExpect
	}
	if len(retryJoin) > 0 {
		cfg.RetryJoin = retryJoin
	}
	if retryInterval != 0 {
		cfg.RetryInterval = retryInterval
	}
	if retryMax >= 0 {
		cfg.RetryMax = retryMax
	}
	if len(servers) > 0 {
		cfg.Client.Servers = nil
		for _, s := range servers {
			for _, addr := range strings.Split(s, ",") {
				if addr = strings.TrimSpace(addr); addr != "" {
					cfg.Client.Servers = append(cfg.Client.Servers, addr)
				}
			}
		}
	}
	return cfg, cfg.Validate()
}
