package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/logging"
)

// testCluster starts n servers on loopback and forms one Raft cluster of
// them by hand: the first bootstraps alone and adds the others as voters
// (gossip-driven formation is membership_test.go's; these tests are about
// what happens once a cluster exists).
func testCluster(t *testing.T, n int, tweak func(*Config)) []*Server {
	t.Helper()
	servers := make([]*Server, n)
	for i := range n {
		servers[i] = startTestServer(t, t.TempDir(), i, i == 0, tweak)
	}
	waitFor(t, "the first server to lead", func() bool { return servers[0].IsLeader() })
	for _, s := range servers[1:] {
		addVoter(t, servers[0], s)
	}
	waitFor(t, "every server to know the leader and every peer", func() bool {
		for _, s := range servers {
			if s.Leader() == "" || len(s.raftServers()) != n {
				return false
			}
		}
		return true
	})
	return servers
}

func startTestServer(t *testing.T, dir string, i int, bootstrap bool, tweak func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		NodeName:  "s" + string(rune('1'+i)),
		DataDir:   dir,
		RPCAddr:   "127.0.0.1:0",
		Bootstrap: bootstrap,
		Logger:    logging.Discard(),
		// These servers are not in one gossip pool, so autopilot must not
		// take them for dead and remove them.
		Autopilot: &AutopilotConfig{},
		Gossip:    GossipConfig{Local: true},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })
	return s
}

func addVoter(t *testing.T, leader, s *Server) {
	t.Helper()
	f := leader.raft.AddVoter(serverID(t, s), raft.ServerAddress(s.RPCAddr()), 0, 0)
	if err := f.Error(); err != nil {
		t.Fatalf("add voter %s: %v", s.RPCAddr(), err)
	}
}

func serverID(t *testing.T, s *Server) raft.ServerID {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.cfg.DataDir, "server-id"))
	if err != nil {
		t.Fatal(err)
	}
	return raft.ServerID(b)
}

// leaderOf returns the server that leads, and the others.
func leaderOf(t *testing.T, servers []*Server) (*Server, []*Server) {
	t.Helper()
	var leader *Server
	waitFor(t, "a leader", func() bool {
		for _, s := range servers {
			if s.IsLeader() && s.broker.Enabled() {
				leader = s
				return true
			}
		}
		return false
	})
	var followers []*Server
	for _, s := range servers {
		if s != leader {
			followers = append(followers, s)
		}
	}
	return leader, followers
}
