package agent

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/drover-project/drover/server/nodes"
)

// The parts of the agent config for clients that run without a local
// server (client_remote.go) and for the servers' view of them:
//
//	client {
//	  servers          = ["10.0.0.1:4747"]  # RPC addresses; optional with retry_join
//	  server_join { retry_join = ["10.0.0.1"] }
//	  reserved { cpu = 500  memory = 512 }
//	  min_dynamic_port = 20000
//	  max_dynamic_port = 32000
//	}
//	server {
//	  min_heartbeat_ttl         = "10s"
//	  heartbeat_grace           = "5s"
//	  max_heartbeats_per_second = 50
//	}

// ReservedConfig is the client's `reserved` block: what the scheduler must
// leave to the system.
type ReservedConfig struct {
	CPU      int // MHz
	MemoryMB int
}

// HeartbeatConfig is how long the servers let a client stay silent; zero
// fields keep the defaults of server/nodes.HeartbeatPolicy.
type HeartbeatConfig struct {
	MinTTL       time.Duration
	Grace        time.Duration
	MaxPerSecond float64
}

type fileReserved struct {
	CPU    *int `hcl:"cpu,optional"`
	Memory *int `hcl:"memory,optional"`
}

// mergeRemoteClient merges the client's servers, reserved resources and
// ports, and the server's heartbeat settings, of one file.
func (c *Config) mergeRemoteClient(cl *fileClient, s *fileServer) error {
	if cl != nil {
		if cl.Servers != nil {
			c.Client.Servers = cl.Servers
		}
		if r := cl.Reserved; r != nil {
			set(&c.Client.Reserved.CPU, r.CPU)
			set(&c.Client.Reserved.MemoryMB, r.Memory)
		}
		set(&c.Client.MinDynamicPort, cl.MinDynamicPort)
		set(&c.Client.MaxDynamicPort, cl.MaxDynamicPort)
		if j := cl.ServerJoin; j != nil {
			// A client joins the same gossip pool the servers do.
			if j.RetryJoin != nil {
				c.RetryJoin = j.RetryJoin
			}
			set(&c.RetryMax, j.RetryMax)
			if j.RetryInterval != nil {
				d, err := parseDuration("client.server_join.retry_interval", *j.RetryInterval)
				if err != nil {
					return err
				}
				c.RetryInterval = d
			}
		}
	}
	if s != nil {
		for key, dst := range map[string]struct {
			v   *string
			out *time.Duration
		}{"server.heartbeat_grace": {s.HeartbeatGrace, &c.Server.Heartbeat.Grace}, "server.min_heartbeat_ttl": {s.MinHeartbeatTTL, &c.Server.Heartbeat.MinTTL}} {
			if dst.v == nil {
				continue
			}
			d, err := parseDuration(key, *dst.v)
			if err != nil {
				return err
			}
			*dst.out = d
		}
		set(&c.Server.Heartbeat.MaxPerSecond, s.MaxHeartbeatsPerSecond)
	}
	return nil
}

// validateRemoteClient checks the client's servers, resources and ports,
// and the heartbeat settings.
func (c *Config) validateRemoteClient() error {
	cl := c.Client
	for _, addr := range cl.Servers {
		if _, err := ServerAddress(addr); err != nil {
			return fmt.Errorf("client.servers (-servers): %w", err)
		}
	}
	if cl.Reserved.CPU < 0 || cl.Reserved.MemoryMB < 0 {
		return fmt.Errorf("client.reserved: cpu = %d and memory = %d must not be negative", cl.Reserved.CPU, cl.Reserved.MemoryMB)
	}
	for key, p := range map[string]int{"client.min_dynamic_port": cl.MinDynamicPort, "client.max_dynamic_port": cl.MaxDynamicPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%s = %d: not a port number", key, p)
		}
	}
	if cl.MinDynamicPort > 0 && cl.MaxDynamicPort > 0 && cl.MinDynamicPort > cl.MaxDynamicPort {
		return fmt.Errorf("client.min_dynamic_port = %d is above client.max_dynamic_port = %d", cl.MinDynamicPort, cl.MaxDynamicPort)
	}
	if c.Server.Heartbeat.MaxPerSecond < 0 {
		return fmt.Errorf("server.max_heartbeats_per_second = %v: want more than 0", c.Server.Heartbeat.MaxPerSecond)
	}
	if c.Client.Enabled && !c.Server.Enabled && len(cl.Servers) == 0 && len(c.RetryJoin) == 0 {
		return fmt.Errorf("a client without a local server needs servers to reach: set client.servers (-servers) to their RPC addresses or retry_join (-retry-join) to the gossip address of any member")
	}
	return nil
}

// ServerAddress gives a server's RPC address its port: "host" becomes
// "host:4747".
func ServerAddress(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", fmt.Errorf("empty address")
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	if ip := net.ParseIP(addr); ip != nil || !strings.Contains(addr, ":") {
		return net.JoinHostPort(addr, strconv.Itoa(DefaultRPCPort)), nil
	}
	return "", fmt.Errorf("address %q: want host or host:port", addr)
}

// policy is the server's heartbeat policy, with the defaults filled in.
func (h HeartbeatConfig) policy() nodes.HeartbeatPolicy {
	return nodes.HeartbeatPolicy{
		MinTTL:       cmp.Or(h.MinTTL, nodes.DefaultMinHeartbeatTTL),
		Grace:        cmp.Or(h.Grace, nodes.DefaultHeartbeatGrace),
		MaxPerSecond: cmp.Or(h.MaxPerSecond, nodes.DefaultMaxHeartbeatsPerSecond),
	}
}
