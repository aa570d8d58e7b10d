package agent

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The parts of the agent config that make servers a cluster: whom to join
// (top-level retry_join, or Nomad's server { server_join { ... } }), what
// to advertise, when to leave on a signal, the Raft timing multiplier and
// autopilot's dead-server cleanup (top-level autopilot { ... }, as Nomad's,
// or inside server { ... }).

// Advertise is the `advertise` block: the addresses other agents use, each
// "ip" or "ip:port" (the port defaults to the matching ports value).
type Advertise struct {
	HTTP string
	RPC  string
	Serf string
}

// AutopilotConfig is the `autopilot` block.
type AutopilotConfig struct {
	CleanupDeadServers      bool
	ServerStabilizationTime time.Duration
	// MinQuorum 0 means a majority of bootstrap_expect.
	MinQuorum int
}

// Cluster defaults, as Nomad's.
const (
	defaultRetryInterval     = 30 * time.Second
	defaultStabilizationTime = 10 * time.Second
	maxRaftMultiplier        = 10
)

type fileAdvertise struct {
	HTTP *string `hcl:"http,optional"`
	RPC  *string `hcl:"rpc,optional"`
	Serf *string `hcl:"serf,optional"`
}

type fileServerJoin struct {
	RetryJoin     []string `hcl:"retry_join,optional"`
	RetryInterval *string  `hcl:"retry_interval,optional"`
	RetryMax      *int     `hcl:"retry_max,optional"`
}

type fileAutopilot struct {
	CleanupDeadServers      *bool   `hcl:"cleanup_dead_servers,optional"`
	ServerStabilizationTime *string `hcl:"server_stabilization_time,optional"`
	MinQuorum               *int    `hcl:"min_quorum,optional"`
}

// mergeCluster merges the clustering keys of one file into c.
func (c *Config) mergeCluster(fc *fileConfig) error {
	set(&c.LeaveOnInterrupt, fc.LeaveOnInterrupt)
	set(&c.LeaveOnTerminate, fc.LeaveOnTerminate)
	if fc.RetryJoin != nil {
		c.RetryJoin = fc.RetryJoin
	}
	if a := fc.Advertise; a != nil {
		set(&c.Advertise.HTTP, a.HTTP)
		set(&c.Advertise.RPC, a.RPC)
		set(&c.Advertise.Serf, a.Serf)
	}
	if err := c.mergeAutopilot("autopilot", fc.Autopilot); err != nil {
		return err
	}
	s := fc.Server
	if s == nil {
		return nil
	}
	set(&c.Server.RaftMultiplier, s.RaftMultiplier)
	if err := c.mergeAutopilot("server.autopilot", s.Autopilot); err != nil {
		return err
	}
	if j := s.ServerJoin; j != nil {
		if j.RetryJoin != nil {
			c.RetryJoin = j.RetryJoin
		}
		set(&c.RetryMax, j.RetryMax)
		if j.RetryInterval != nil {
			d, err := parseDuration("server.server_join.retry_interval", *j.RetryInterval)
			if err != nil {
				return err
			}
			c.RetryInterval = d
		}
	}
	return nil
}

func (c *Config) mergeAutopilot(where string, a *fileAutopilot) error {
	if a == nil {
		return nil
	}
	set(&c.Autopilot.CleanupDeadServers, a.CleanupDeadServers)
	set(&c.Autopilot.MinQuorum, a.MinQuorum)
	if a.ServerStabilizationTime != nil {
		d, err := parseDuration(where+".server_stabilization_time", *a.ServerStabilizationTime)
		if err != nil {
			return err
		}
		c.Autopilot.ServerStabilizationTime = d
	}
	return nil
}

func parseDuration(key, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a duration such as \"10s\" or \"1m\"", key, s)
	}
	return d, nil
}

// validateCluster checks the clustering keys of the merged configuration.
func (c *Config) validateCluster() error {
	switch e := c.Server.BootstrapExpect; {
	case e < 0:
		return fmt.Errorf("server.bootstrap_expect (-bootstrap-expect) = %d: want 0 or more", e)
	case c.Dev && e > 1:
		return fmt.Errorf("server.bootstrap_expect (-bootstrap-expect) = %d: a -dev agent is a cluster of one", e)
	}
	if m := c.Server.RaftMultiplier; m < 0 || m > maxRaftMultiplier {
		return fmt.Errorf("server.raft_multiplier = %d: want 1 to %d (0 means 1)", m, maxRaftMultiplier)
	}
	if c.RetryInterval <= 0 {
		return fmt.Errorf("retry_interval (-retry-interval) must be positive, not %s", c.RetryInterval)
	}
	if c.RetryMax < 0 {
		return fmt.Errorf("retry_max (-retry-max) = %d: want 0 (no limit) or more", c.RetryMax)
	}
	if c.Autopilot.MinQuorum < 0 {
		return fmt.Errorf("autopilot.min_quorum = %d: want 0 or more", c.Autopilot.MinQuorum)
	}
	for _, addr := range c.RetryJoin {
		if _, err := JoinAddress(addr); err != nil {
			return fmt.Errorf("retry_join (-retry-join): %w", err)
		}
	}
	for key, v := range map[string]struct {
		value string
		port  int
	}{"advertise.http": {c.Advertise.HTTP, c.Ports.HTTP}, "advertise.rpc": {c.Advertise.RPC, c.Ports.RPC}, "advertise.serf": {c.Advertise.Serf, c.Ports.Serf}} {
		if v.value == "" {
			continue
		}
		if _, _, err := advertiseAddr(key, v.value, v.port); err != nil {
			return err
		}
	}
	return nil
}

// JoinAddress gives a join address its port: "host" becomes "host:4748".
func JoinAddress(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("empty address")
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	if ip := net.ParseIP(addr); ip != nil || !strings.Contains(addr, ":") {
		return net.JoinHostPort(addr, strconv.Itoa(DefaultSerfPort)), nil
	}
	return "", fmt.Errorf("address %q: want host or host:port", addr)
}

// advertiseAddr splits an advertise value, "ip" or "ip:port", filling in
// defaultPort when it names none.
func advertiseAddr(key, value string, defaultPort int) (string, int, error) {
	host, portStr, err := net.SplitHostPort(value)
	if err != nil {
		host, portStr = value, strconv.Itoa(defaultPort)
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return "", 0, fmt.Errorf("%s = %q: want an IP address others can reach, optionally with a port", key, value)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("%s = %q: want a port from 1 to 65535 (the ports value is %d)", key, value, defaultPort)
	}
	return ip.String(), port, nil
}
