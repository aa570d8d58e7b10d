package agent

import (
	"strings"
	"testing"
	"time"
)

func TestLoadClusterConfig(t *testing.T) {
	c := DefaultConfig()
	src := `
data_dir = "/var/lib/drover"
bind_addr = "0.0.0.0"
retry_join = ["10.0.0.1", "10.0.0.2:5000"]
leave_on_terminate = true
advertise {
  rpc  = "10.0.0.9"
  serf = "10.0.0.9:6000"
}
ports {
  serf = 5748
}
server {
  enabled          = true
  bootstrap_expect = 3
  raft_multiplier  = 2
}
autopilot {
  cleanup_dead_servers      = false
  server_stabilization_time = "30s"
  min_quorum                = 3
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Server.BootstrapExpect != 3 || c.Server.RaftMultiplier != 2 || c.Ports.Serf != 5748 || !c.LeaveOnTerminate {
		t.Fatalf("merged %+v", c)
	}
	if len(c.RetryJoin) != 2 || c.Advertise.RPC != "10.0.0.9" || c.Advertise.Serf != "10.0.0.9:6000" {
		t.Fatalf("merged %+v", c)
	}
	if c.Autopilot.CleanupDeadServers || c.Autopilot.ServerStabilizationTime != 30*time.Second || c.Autopilot.MinQuorum != 3 {
		t.Fatalf("autopilot %+v", c.Autopilot)
	}
}

func TestLoadNomadServerJoinBlock(t *testing.T) {
	c := DefaultConfig()
	src := `
server {
  enabled = true
  server_join {
    retry_join     = ["s1.example:4748"]
    retry_interval = "5s"
    retry_max      = 4
  }
  autopilot {
    server_stabilization_time = "2s"
  }
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if len(c.RetryJoin) != 1 || c.RetryInterval != 5*time.Second || c.RetryMax != 4 {
		t.Fatalf("merged %+v", c)
	}
	if !c.Autopilot.CleanupDeadServers || c.Autopilot.ServerStabilizationTime != 2*time.Second {
		t.Fatalf("autopilot %+v", c.Autopilot)
	}
}

func TestClusterConfigMistakes(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`autopilot { server_stabilization_time = "soon" }`, `autopilot.server_stabilization_time: "soon" is not a duration`},
		{"server {\n  server_join {\n    retry_interval = \"x\"\n  }\n}", `server.server_join.retry_interval`},
		{`autopilot { last_contact_threshold = "200ms" }`, `Unsupported argument`},
	} {
		c := DefaultConfig()
		err := c.loadConfig("agent.hcl", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Server.BootstrapExpect = -1 }, "bootstrap_expect"},
		{func(c *Config) { c.Dev = true; c.Server.BootstrapExpect = 3 }, "cluster of one"},
		{func(c *Config) { c.Server.RaftMultiplier = 11 }, "raft_multiplier"},
		{func(c *Config) { c.RetryJoin = []string{"a:b:c"} }, "retry_join"},
		{func(c *Config) { c.Advertise.RPC = "0.0.0.0" }, "advertise.rpc"},
	} {
		c := DefaultConfig()
		c.Server.Enabled = true
		c.DataDir = "/tmp/x"
		tc.edit(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestJoinAddressDefaultsToTheGossipPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":      "10.0.0.1:4748",
		"s1.example":    "s1.example:4748",
		"10.0.0.1:5000": "10.0.0.1:5000",
		"::1":           "[::1]:4748",
		"[::1]:5000":    "[::1]:5000",
	} {
		got, err := JoinAddress(in)
		if err != nil || got != want {
			t.Errorf("JoinAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
