package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/server/membership"
)

// startGossipServer starts a server that finds its peers through gossip on
// loopback: join lists the gossip addresses it retries.
func startGossipServer(t *testing.T, name string, expect int, join []string, tweaks ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		NodeName:        name,
		DataDir:         t.TempDir(),
		RPCAddr:         "127.0.0.1:0",
		BootstrapExpect: expect,
		Gossip: GossipConfig{
			BindAddr:          "127.0.0.1",
			RetryJoin:         join,
			RetryInterval:     200 * time.Millisecond,
			Local:             true,
			ReconnectInterval: 500 * time.Millisecond,
		},
		Autopilot: &AutopilotConfig{CleanupDeadServers: true, ServerStabilizationTime: time.Second},
		Logger:    logging.Discard(),
	}
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })
	return s
}

// voters is the set of voter IDs in s's Raft configuration.
func voters(s *Server) map[raft.ServerID]bool {
	out := map[raft.ServerID]bool{}
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return out
	}
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			out[srv.ID] = true
		}
	}
	return out
}

func votersAre(s *Server, want ...*Server) bool {
	got := voters(s)
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !got[w.localID] {
			return false
		}
	}
	return true
}

// oneLeader waits until exactly one of servers leads and all agree on it.
func oneLeader(t *testing.T, servers []*Server) *Server {
	t.Helper()
	var leader *Server
	waitFor(t, "one leader that every server knows", func() bool {
		leader = nil
		for _, s := range servers {
			if s.IsLeader() {
				if leader != nil {
					return false
				}
				leader = s
			}
		}
		if leader == nil {
			return false
		}
		for _, s := range servers {
			if s.Leader() != leader.RPCAddr() {
				return false
			}
		}
		return true
	})
	return leader
}

func without(servers []*Server, gone *Server) []*Server {
	var out []*Server
	for _, s := range servers {
		if s != gone {
			out = append(out, s)
		}
	}
	return out
}

// TestThreeServersFormAClusterAndSurviveTheLeader forms a cluster from one
// join address and bootstrap_expect = 3, kills the leader, and checks that
// a new one is elected, accepts writes, and that autopilot then takes the
// dead server out of the configuration; the old leader, restarted on a new
// data dir, is added back as a fourth server would be.
func TestThreeServersFormAClusterAndSurviveTheLeader(t *testing.T) {
	s1 := startGossipServer(t, "s1", 3, nil)
	join := []string{s1.GossipAddr()}
	s2 := startGossipServer(t, "s2", 3, join)
	s3 := startGossipServer(t, "s3", 3, join)
	servers := []*Server{s1, s2, s3}

	leader := oneLeader(t, servers)
	for _, s := range servers {
		waitFor(t, "three voters on "+s.cfg.NodeName, func() bool { return votersAre(s, s1, s2, s3) })
	}
	ctx := context.Background()
	if _, err := leader.Endpoints().RegisterNode(ctx, testNode("n1")); err != nil {
		t.Fatal(err)
	}
	members := leader.Members()
	if len(members.Members) != 3 || members.ServerRegion != "global" {
		t.Fatalf("members: %+v", members)
	}
	leaders := 0
	for _, m := range members.Members {
		if m.Status != "alive" || m.RaftState != "voter" || m.Tags[membership.TagRole] != "server" {
			t.Fatalf("member %+v", m)
		}
		if m.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d members marked leader", leaders)
	}

	// The leader dies without a word.
	killed := time.Now()
	leader.Shutdown()
	rest := without(servers, leader)
	newLeader := oneLeader(t, rest)
	t.Logf("new leader %s elected %v after the old one stopped", newLeader.cfg.NodeName, time.Since(killed))
	waitFor(t, "a write on the new leader", func() bool {
		_, err := newLeader.Endpoints().RegisterNode(ctx, testNode("n2"))
		return err == nil
	})
	for _, s := range rest {
		waitFor(t, "both nodes on "+s.cfg.NodeName, func() bool {
			nodes, err := s.State().Nodes(nil)
			return err == nil && len(nodes) == 2
		})
	}

	// Autopilot removes the dead server once it has been failed for the
	// stabilization time: two voters stay, a majority of bootstrap_expect.
	waitFor(t, "the dead leader to leave the configuration", func() bool { return votersAre(newLeader, rest...) })

	// A fresh server joining later is added as a voter.
	s4 := startGossipServer(t, "s4", 3, []string{newLeader.GossipAddr()})
	waitFor(t, "s4 to become a voter", func() bool { return votersAre(newLeader, append(rest, s4)...) })
	// Leadership may move under load (500ms Raft timeouts), so the leader
	// is looked up again rather than assumed to be newLeader.
	three := append(slices.Clone(rest), s4)
	waitFor(t, "s4 to follow the leader", func() bool { l := oneLeaderNow(three); return l != "" && s4.Leader() == l })
	waitFor(t, "s4 to catch up", func() bool {
		nodes, err := s4.State().Nodes(nil)
		return err == nil && len(nodes) == 2
	})

	// The leader leaves on purpose: it takes itself out, another leads.
	leaver := oneLeader(t, three)
	if err := leaver.Leave(); err != nil {
		t.Fatal(err)
	}
	leaver.Shutdown()
	remaining := without(three, leaver)
	third := oneLeader(t, remaining)
	waitFor(t, "two voters after the leader left", func() bool { return votersAre(third, remaining...) })
	// The leader took itself out of the Raft configuration before it
	// gossiped its leave, so the leave may reach third only after that.
	waitFor(t, "the leader that left to show as left", func() bool { return memberStatus(third, leaver.memberName()) == "left" })
}

// oneLeaderNow is the RPC address of the one server of servers that leads
// now, or "" when none or several do.
func oneLeaderNow(servers []*Server) string {
	addr := ""
	for _, s := range servers {
		if s.IsLeader() {
			if addr != "" {
				return ""
			}
			addr = s.RPCAddr()
		}
	}
	return addr
}

// threeServersWithoutCleanup starts three gossiping servers with no
// dead-server cleanup (only force-leave or a leave may remove one) and
// returns the leader and the two followers once all three are voters.
func threeServersWithoutCleanup(t *testing.T) (leader *Server, followers []*Server) {
	t.Helper()
	noCleanup := func(c *Config) { c.Autopilot = &AutopilotConfig{} }
	logs := keepLogs(t)
	s1 := startGossipServer(t, "s1", 3, nil, noCleanup, logs("s1"))
	join := []string{s1.GossipAddr()}
	s2 := startGossipServer(t, "s2", 3, join, noCleanup, logs("s2"))
	s3 := startGossipServer(t, "s3", 3, join, noCleanup, logs("s3"))
	servers := []*Server{s1, s2, s3}
	leader = oneLeader(t, servers)
	waitFor(t, "three voters", func() bool { return votersAre(leader, s1, s2, s3) })
	return leader, without(servers, leader)
}

// TestForceLeaveAndGracefulLeave: a failed server can be forced out of the
// Raft configuration by name; a server that leaves is removed at once.
func TestForceLeaveAndGracefulLeave(t *testing.T) {
	leader, followers := threeServersWithoutCleanup(t)
	failing, leaving := followers[0], followers[1]

	failing.Shutdown()
	phase := time.Now()
	waitFor(t, "the failure to be seen", func() bool {
		return memberStatus(leader, failing.memberName()) == "failed" && memberStatus(leaving, failing.memberName()) == "failed"
	})
	t.Logf("failure seen %v after the shutdown", time.Since(phase))
	if !votersAre(leader, leader, failing, leaving) {
		t.Fatal("a failed server was removed with cleanup off")
	}
	if err := leader.ForceLeave("nobody", false); err == nil {
		t.Fatal("force-leave of an unknown member succeeded")
	}
	// A live member may be suspected for a moment on a loaded machine:
	// refusing force-leave is checked while the leader sees it alive.
	waitFor(t, "the leader to see the live follower alive", func() bool { return memberStatus(leader, leaving.memberName()) == "alive" })
	if err := leader.ForceLeave(leaving.cfg.NodeName, false); err == nil {
		t.Fatal("force-leave of a live member succeeded")
	}
	// From a follower, by its short name: gossip carries it to the leader.
	phase = time.Now()
	if err := leaving.ForceLeave(failing.cfg.NodeName, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forced server out of the configuration", func() bool { return votersAre(leader, leader, leaving) })
	t.Logf("forced server out of the configuration %v after the force-leave", time.Since(phase))
	if st := memberStatus(leader, failing.memberName()); st != "left" {
		t.Fatalf("status of the forced server: %q", st)
	}

	phase = time.Now()
	if err := leaving.Leave(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Leave returned after %v", time.Since(phase))
	// Leave waits a bounded time for its removal; on a loaded machine the
	// leader may commit it just after.
	waitForOr(t, "the leaving server out of the configuration", func() bool { return votersAre(leader, leader) },
		func() string { return describeServers(leader, leaving) })
	leaving.Shutdown()
	waitFor(t, "the server that left to show as left", func() bool { return memberStatus(leader, leaving.memberName()) == "left" })
	t.Logf("the server that left shows as left %v after its Leave", time.Since(phase))
}

// TestForceLeaveOverRPCAlone: the leader acts on a force-leave a follower
// tells it over RPC even if no gossip broadcast of it arrives (here none is
// sent: the follower's pool is not touched), and a prune, which takes the
// member out of the leader's list, still takes it out of Raft.
func TestForceLeaveOverRPCAlone(t *testing.T) {
	leader, followers := threeServersWithoutCleanup(t)
	failing, asking := followers[0], followers[1]

	failing.Shutdown()
	waitFor(t, "the leader to see the failure", func() bool { return memberStatus(leader, failing.memberName()) == "failed" })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := &forceLeaveArgs{Name: failing.memberName(), ID: string(failing.localID), Prune: true}
	// Leadership may move under load; the call is forwarded to whoever leads.
	waitFor(t, "the leader to take the force-leave", func() bool { return asking.forceLeaveOnLeader(ctx, args) == nil })
	now := oneLeader(t, []*Server{leader, asking})
	waitFor(t, "the pruned server out of the configuration", func() bool { return votersAre(now, leader, asking) })
	if st := memberStatus(now, failing.memberName()); !strings.HasPrefix(st, "(no member") {
		t.Fatalf("status of the pruned server on the leader: %q", st)
	}
}

// keepLogs collects the servers' logs (info and up, gossip included) and
// prints them if the test fails: these failures come from gossip and Raft
// timing that only the logs show. It returns a Config tweak per server.
func keepLogs(t *testing.T) func(name string) func(*Config) {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() { // registered first, so it runs after the servers stop
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("server logs:\n%s", buf.String())
		}
	})
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	})
	h := slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})
	return func(name string) func(*Config) {
		return func(c *Config) { c.Logger = slog.New(h).With("server", name) }
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// waitForOr is waitFor that, on timeout, also reports describe().
func waitForOr(t *testing.T, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; %s", what, describe())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// describeServers says, for a failure message, what each server thinks:
// its Raft state and voters, and the gossip status of every member.
func describeServers(servers ...*Server) string {
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "\n%s: raft %s, voters %v, members", s.cfg.NodeName, s.raft.State(), voters(s))
		for _, m := range s.Members().Members {
			fmt.Fprintf(&b, " %s=%s", m.Name, m.Status)
		}
	}
	return b.String()
}

func memberStatus(s *Server, name string) string {
	for _, m := range s.Members().Members {
		if m.Name == name {
			return m.Status
		}
	}
	return fmt.Sprintf("(no member %s)", name)
}

// BenchmarkLeaderFailover measures, in one process on loopback, how long
// after the leader stops a new one is elected (go test -bench
// LeaderFailover -benchtime 10x ./server/). The e2e figures over real
// processes are in bench/.
func BenchmarkLeaderFailover(b *testing.B) {
	var total time.Duration
	for range b.N {
		s1 := startGossipServerB(b, "s1", nil)
		join := []string{s1.GossipAddr()}
		servers := []*Server{s1, startGossipServerB(b, "s2", join), startGossipServerB(b, "s3", join)}
		leader := waitLeaderB(b, servers)
		start := time.Now()
		leader.Shutdown()
		waitLeaderB(b, without(servers, leader))
		total += time.Since(start)
		for _, s := range servers {
			s.Shutdown()
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/failover")
}

func startGossipServerB(b *testing.B, name string, join []string) *Server {
	s, err := New(Config{
		NodeName: name, DataDir: b.TempDir(), RPCAddr: "127.0.0.1:0", BootstrapExpect: 3,
		Gossip: GossipConfig{BindAddr: "127.0.0.1", RetryJoin: join, RetryInterval: 200 * time.Millisecond, Local: true},
		Logger: logging.Discard(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func waitLeaderB(b *testing.B, servers []*Server) *Server {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range servers {
			if s.IsLeader() {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal("no leader")
	return nil
}

// TestLeaveOfAServerThatBecomesLeaderMeanwhile: a follower leaves, and
// leadership comes to it while it waits to be removed. The leader's
// autopilot never removes the leader itself, so Leave must: otherwise the
// server stays in the configuration, and leads, until it shuts down. The
// servers share no gossip pool, so no leader removes the leaving one on
// its own and only Leave can take it out.
func TestLeaveOfAServerThatBecomesLeaderMeanwhile(t *testing.T) {
	// Leadership must reach the leaving server within Leave's wait; on a
	// very slow machine it may not, and then the round is tried again.
	for attempt := 1; attempt <= 3; attempt++ {
		servers := testCluster(t, 3, nil)
		leader, followers := leaderOf(t, servers)
		leaving := followers[0]
		done := make(chan error, 1)
		started := time.Now()
		go func() { done <- leaving.Leave() }()
		// Once it shows itself as left, Leave has looked at its Raft state
		// (a follower then) and waits for its removal.
		waitFor(t, "the leaving server to leave its gossip pool", func() bool {
			return memberStatus(leaving, leaving.memberName()) == "left"
		})
		err := leader.TransferLeadership(context.Background(), string(serverID(t, leaving)))
		if err != nil || time.Since(started) >= leaveWait {
			// Leave may have stopped waiting before leadership came.
			t.Logf("attempt %d: leadership did not reach the leaving server within %v (%v)", attempt, leaveWait, err)
			<-done
			continue
		}
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatal("Leave did not return")
		}
		if err != nil {
			t.Fatal(err)
		}
		rest := without(servers, leaving)
		for _, s := range rest {
			waitForOr(t, "the leaving server out of the configuration on "+s.cfg.NodeName,
				func() bool { return votersAre(s, rest...) }, func() string { return describeServers(servers...) })
		}
		return
	}
	t.Fatal("leadership never reached the leaving server while it waited")
}
