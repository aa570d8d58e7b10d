// Package agent runs one drover process: a server, a client, or both, and
// the HTTP API in front of them.
package agent

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-project/drover/structs"
)

// Default ports, as the documentation gives them.
const (
	DefaultHTTPPort = 4746
	DefaultRPCPort  = 4747
	DefaultSerfPort = 4748
)

// Config is the agent's configuration: defaults, then each -config file in
// order, then flags.
type Config struct {
	Dev        bool
	Name       string
	DataDir    string
	BindAddr   string
	Datacenter string
	Region     string
	LogLevel   string
	Ports      Ports
	Server     ServerConfig
	Client     ClientConfig
	// Docker is the plugin "docker" block (config_docker.go).
	Docker DockerPluginConfig

	// Clustering (config_cluster.go): addresses to advertise, servers to
	// join, leaving on a signal, dead-server cleanup.
	Advertise        Advertise
	RetryJoin        []string
	RetryInterval    time.Duration
	RetryMax         int
	LeaveOnInterrupt bool
	LeaveOnTerminate bool
	Autopilot        AutopilotConfig
	// EnableDebug serves Go's profiles at /debug/pprof/ on the HTTP API
	// (debug.go); off by default, as Nomad's enable_debug.
	EnableDebug bool
}

// Ports the agent listens on. -1 means "not set" while merging; 0 asks the
// OS for a free port (for tests).
type Ports struct {
	HTTP int
	RPC  int
	Serf int
}

// ServerConfig is the `server` block.
type ServerConfig struct {
	Enabled         bool
	BootstrapExpect int
	// RaftMultiplier scales the Raft timeouts (1 to 10; 0 means 1).
	RaftMultiplier int
	// Raft snapshots and log truncation (config_raft.go); 0 keeps defaults.
	RaftSnapshotThreshold uint64
	RaftSnapshotInterval  time.Duration
	RaftTrailingLogs      uint64
	// Heartbeats: see config_client.go.
	Heartbeat HeartbeatConfig
	// NumSchedulers is how many scheduling workers the server runs while
	// it leads (num_schedulers); 0 means one per core.
	NumSchedulers int
}

// ClientConfig is the `client` block.
type ClientConfig struct {
	Enabled   bool
	NodeClass string
	NodePool  string
	Meta      map[string]string
	// EnableMockDriver adds Nomad's mock_driver, for scale tests without
	// Docker; off unless asked for.
	EnableMockDriver bool
	// Servers, reserved resources and dynamic ports: see config_client.go.
	Servers        []string
	Reserved       ReservedConfig
	MinDynamicPort int
	MaxDynamicPort int
	// HostVolumes and Options: see config_docker.go.
	HostVolumes map[string]*structs.ClientHostVolumeConfig
	Options     map[string]string
	// DNS: see discovery.go.
	DNS ClientDNSConfig
	// PublishAddress is where task ports are published and service
	// instances advertised; empty is the bind address (discovery.go).
	PublishAddress string
	// GC: terminal allocations' garbage collection (config_gc.go).
	GC ClientGCConfig
}

// DefaultConfig is what an agent runs with before files and flags.
func DefaultConfig() *Config {
	return &Config{
		BindAddr:   "127.0.0.1",
		Datacenter: "dc1",
		Region:     "global",
		LogLevel:   "info",
		Ports:      Ports{HTTP: DefaultHTTPPort, RPC: DefaultRPCPort, Serf: DefaultSerfPort},
		// Clustering defaults: config_cluster.go.
		RetryInterval: defaultRetryInterval,
		Autopilot:     AutopilotConfig{CleanupDeadServers: true, ServerStabilizationTime: defaultStabilizationTime},
	}
}

// fileConfig is the HCL shape of a config file. Pointers tell "not set"
// from a zero value, so a later file only overrides what it names.
type fileConfig struct {
	Name       *string     `hcl:"name,optional"`
	DataDir    *string     `hcl:"data_dir,optional"`
	BindAddr   *string     `hcl:"bind_addr,optional"`
	Datacenter *string     `hcl:"datacenter,optional"`
	Region     *string     `hcl:"region,optional"`
	LogLevel   *string     `hcl:"log_level,optional"`
	Ports      *filePorts  `hcl:"ports,block"`
	Server     *fileServer `hcl:"server,block"`
	Client     *fileClient `hcl:"client,block"`

	// plugin "docker" { config { ... } }: see config_docker.go.
	Plugins []*filePlugin `hcl:"plugin,block"`

	// Clustering: see config_cluster.go.
	Advertise        *fileAdvertise `hcl:"advertise,block"`
	RetryJoin        []string       `hcl:"retry_join,optional"`
	LeaveOnInterrupt *bool          `hcl:"leave_on_interrupt,optional"`
	LeaveOnTerminate *bool          `hcl:"leave_on_terminate,optional"`
	Autopilot        *fileAutopilot `hcl:"autopilot,block"`
	// enable_debug: see debug.go.
	EnableDebug *bool `hcl:"enable_debug,optional"`
}

type filePorts struct {
	HTTP *int `hcl:"http,optional"`
	RPC  *int `hcl:"rpc,optional"`
	Serf *int `hcl:"serf,optional"`
}

type fileServer struct {
	Enabled         *bool `hcl:"enabled,optional"`
	BootstrapExpect *int  `hcl:"bootstrap_expect,optional"`

	// Clustering: see config_cluster.go.
	RaftMultiplier *int            `hcl:"raft_multiplier,optional"`
	ServerJoin     *fileServerJoin `hcl:"server_join,block"`
	Autopilot      *fileAutopilot  `hcl:"autopilot,block"`

	// Raft snapshots: see config_raft.go.
	RaftSnapshotThreshold *int    `hcl:"raft_snapshot_threshold,optional"`
	RaftSnapshotInterval  *string `hcl:"raft_snapshot_interval,optional"`
	RaftTrailingLogs      *int    `hcl:"raft_trailing_logs,optional"`

	// Heartbeats: see config_client.go.
	HeartbeatGrace         *string  `hcl:"heartbeat_grace,optional"`
	MinHeartbeatTTL        *string  `hcl:"min_heartbeat_ttl,optional"`
	MaxHeartbeatsPerSecond *float64 `hcl:"max_heartbeats_per_second,optional"`

	NumSchedulers *int `hcl:"num_schedulers,optional"`
}

type fileClient struct {
	Enabled          *bool             `hcl:"enabled,optional"`
	NodeClass        *string           `hcl:"node_class,optional"`
	NodePool         *string           `hcl:"node_pool,optional"`
	Meta             map[string]string `hcl:"meta,optional"`
	EnableMockDriver *bool             `hcl:"enable_mock_driver,optional"`

	// servers, reserved, dynamic ports, server_join: see config_client.go.
	Servers        []string        `hcl:"servers,optional"`
	Reserved       *fileReserved   `hcl:"reserved,block"`
	MinDynamicPort *int            `hcl:"min_dynamic_port,optional"`
	MaxDynamicPort *int            `hcl:"max_dynamic_port,optional"`
	ServerJoin     *fileServerJoin `hcl:"server_join,block"`
	// host_volume blocks and options: see config_docker.go.
	HostVolumes []*fileHostVolume `hcl:"host_volume,block"`
	Options     map[string]string `hcl:"options,optional"`
	// dns block and publish_address: see discovery.go.
	DNS            *fileClientDNS `hcl:"dns,block"`
	PublishAddress *string        `hcl:"publish_address,optional"`
	// gc_* attributes: see config_gc.go.
	GCInterval           *string  `hcl:"gc_interval,optional"`
	GCMaxAllocs          *int     `hcl:"gc_max_allocs,optional"`
	GCDiskUsageThreshold *float64 `hcl:"gc_disk_usage_threshold,optional"`
}

// LoadConfigFile merges one HCL config file into c. Errors name the file,
// line and column.
func (c *Config) LoadConfigFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return c.loadConfig(path, src)
}

func (c *Config) loadConfig(filename string, src []byte) error {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return diagError(diags)
	}
	var fc fileConfig
	if diags := gohcl.DecodeBody(file.Body, nil, &fc); diags.HasErrors() {
		return diagError(diags)
	}
	set(&c.Name, fc.Name)
	set(&c.DataDir, fc.DataDir)
	set(&c.BindAddr, fc.BindAddr)
	set(&c.Datacenter, fc.Datacenter)
	set(&c.Region, fc.Region)
	set(&c.LogLevel, fc.LogLevel)
	set(&c.EnableDebug, fc.EnableDebug)
	if p := fc.Ports; p != nil {
		set(&c.Ports.HTTP, p.HTTP)
		set(&c.Ports.RPC, p.RPC)
		set(&c.Ports.Serf, p.Serf)
	}
	if s := fc.Server; s != nil {
		set(&c.Server.Enabled, s.Enabled)
		set(&c.Server.BootstrapExpect, s.BootstrapExpect)
		if n := s.NumSchedulers; n != nil && *n < 1 {
			// Nomad's 0 keeps a server out of scheduling; drover's workers
			// run only on the leader, so 0 would stop all scheduling.
			return fmt.Errorf("%s: server.num_schedulers = %d: want 1 or more (unset: one per core)", filename, *n)
		}
		set(&c.Server.NumSchedulers, s.NumSchedulers)
	}
	if cl := fc.Client; cl != nil {
		set(&c.Client.Enabled, cl.Enabled)
		set(&c.Client.NodeClass, cl.NodeClass)
		set(&c.Client.NodePool, cl.NodePool)
		set(&c.Client.EnableMockDriver, cl.EnableMockDriver)
		if cl.Meta != nil {
			c.Client.Meta = cl.Meta
		}
		if err := c.mergeHostVolumes(cl.HostVolumes); err != nil {
			return fmt.Errorf("%s: %w", filename, err)
		}
		if cl.Options != nil {
			c.Client.Options = cl.Options
		}
		if err := c.mergeClientDNS(cl.DNS); err != nil {
			return fmt.Errorf("%s: %w", filename, err)
		}
		if err := c.mergePublishAddress(cl); err != nil {
			return fmt.Errorf("%s: %w", filename, err)
		}
		if err := c.mergeClientGC(cl); err != nil {
			return fmt.Errorf("%s: %w", filename, err)
		}
	}
	if err := c.mergePlugins(fc.Plugins); err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	if err := c.mergeCluster(&fc); err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	if err := c.mergeRaftSnapshots(fc.Server); err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	if err := c.mergeRemoteClient(fc.Client, fc.Server); err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	return nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// diagError formats diagnostics as "file:line:col: summary; detail", one per line.
func diagError(diags hcl.Diagnostics) error {
	var lines []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		lines = append(lines, msg)
	}
	return fmt.Errorf("%s", strings.Join(lines, "\n"))
}

// Validate checks the merged configuration.
func (c *Config) Validate() error {
	if !c.Server.Enabled && !c.Client.Enabled {
		return fmt.Errorf("agent must run a server, a client, or both (use -dev, -server or -client)")
	}
	for name, p := range map[string]int{"http": c.Ports.HTTP, "rpc": c.Ports.RPC, "serf": c.Ports.Serf} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("ports.%s: %d is not a port number", name, p)
		}
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	if err := c.validateRemoteClient(); err != nil {
		return err
	}
	if c.DataDir == "" && !c.Dev {
		return fmt.Errorf("data_dir (-data-dir) is required outside -dev mode")
	}
	return nil
}
