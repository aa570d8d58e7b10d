package agent

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/server/membership"
)

func TestRemoteClientConfig(t *testing.T) {
	c := DefaultConfig()
	src := `
data_dir = "/tmp/x"
client {
  enabled          = true
  servers          = ["10.0.0.1", "10.0.0.2:5000"]
  node_class       = "web"
  node_pool        = "batch"
  meta             = { rack = "r1" }
  min_dynamic_port = 21000
  max_dynamic_port = 22000
  reserved {
    cpu    = 500
    memory = 256
  }
  server_join {
    retry_join = ["10.0.0.1"]
  }
}
server {
  min_heartbeat_ttl = "2s"
  heartbeat_grace   = "1s"
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cl := c.Client
	if len(cl.Servers) != 2 || cl.Reserved.CPU != 500 || cl.Reserved.MemoryMB != 256 || cl.MinDynamicPort != 21000 || cl.MaxDynamicPort != 22000 || cl.NodePool != "batch" {
		t.Errorf("client config %+v", cl)
	}
	if len(c.RetryJoin) != 1 || c.RetryJoin[0] != "10.0.0.1" {
		t.Errorf("retry_join %v", c.RetryJoin)
	}
	p := c.Server.Heartbeat.policy()
	if p.MinTTL != 2*time.Second || p.Grace != time.Second || p.MaxPerSecond != 50 {
		t.Errorf("heartbeat policy %+v", p)
	}
	for in, want := range map[string]string{"10.0.0.1": "10.0.0.1:4747", "h:1": "h:1"} {
		if got, err := ServerAddress(in); err != nil || got != want {
			t.Errorf("ServerAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestRemoteClientConfigErrors(t *testing.T) {
	for src, want := range map[string]string{
		`data_dir = "/x"` + "\nclient {\n enabled = true\n}":                                                                   "needs servers to reach",
		`data_dir = "/x"` + "\nclient {\n enabled = true\n servers = [\"a\"]\n min_dynamic_port = 9\n max_dynamic_port = 8\n}": "above client.max_dynamic_port",
		`data_dir = "/x"` + "\nserver {\n enabled = true\n heartbeat_grace = \"soon\"\n}":                                      "server.heartbeat_grace",
	} {
		c := DefaultConfig()
		err := c.loadConfig("agent.hcl", []byte(src))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to mention %q", src, err, want)
		}
	}
}

func TestClientAgentServesItsOwnRoutes(t *testing.T) {
	for path, local := range map[string]bool{
		"/v1/agent/self":         true,
		"/v1/agent/members":      false,
		"/v1/client/fs/logs/abc": true,
		"/v1/jobs/parse":         true,
		"/v1/metrics":            true,
		"/ui/":                   true,
		"/v1/jobs":               false,
		"/v1/nodes":              false,
		"/v1/node/abc/drain":     false,
		"/v1/event/stream":       false,
	} {
		if got := servedByClientAgent(path); got != local {
			t.Errorf("servedByClientAgent(%q) = %v, want %v", path, got, local)
		}
	}
}

func TestLiveServersSkipsFailedAndClients(t *testing.T) {
	srv := func(name, rpc string, st membership.Status) membership.Member {
		host, port, _ := net.SplitHostPort(rpc)
		return membership.Member{Name: name, Status: st, Tags: map[string]string{
			membership.TagRole: membership.RoleServer, membership.TagID: name, membership.TagRPCAddr: host, membership.TagPort: port, membership.TagExpect: "3",
		}}
	}
	members := []membership.Member{
		srv("a", "10.0.0.1:4747", membership.StatusAlive),
		srv("b", "10.0.0.2:4747", membership.StatusFailed),
		srv("c", "10.0.0.3:4747", membership.StatusAlive),
		{Name: "node", Status: membership.StatusAlive, Tags: membership.ClientTags(membership.Client{NodeID: "node"})},
	}
	if got, want := liveServers(members, 0), []string{"10.0.0.1:4747", "10.0.0.3:4747"}; !slices.Equal(got, want) {
		t.Errorf("liveServers = %v, want %v", got, want)
	}
	if got, want := liveServers(members, 1), []string{"10.0.0.3:4747", "10.0.0.1:4747"}; !slices.Equal(got, want) {
		t.Errorf("liveServers rotated = %v, want %v", got, want)
	}
}
