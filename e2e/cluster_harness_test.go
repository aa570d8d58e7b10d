package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
)

// TestClusterHarness checks the harness's own faults on two single-node
// servers, which need nothing beyond what the dev agent already has: a
// kill keeps the data, a partition really stops packets between
// namespaces (and not the test's traffic), a pause silences an agent, and
// a wipe loses its state.
func TestClusterHarness(t *testing.T) {
	c := newCluster(t, cluster.Options{Servers: 2, BootstrapExpect: 1})
	s1, s2 := c.Servers()[0], c.Servers()[1]
	for _, s := range c.Servers() {
		if got := c.WaitLeaderAmong(30*time.Second, s); got != s {
			t.Fatalf("%s names %s its leader, want itself", s, got)
		}
	}
	if !s1.CanConnect(s2.RPCAddr) || !s2.CanConnect(s1.RPCAddr) {
		t.Fatal("the two namespaces cannot reach each other before any partition")
	}

	// SIGKILL, then the same data dir again: the write survives.
	mustRegister(t, s1, "harness-kept")
	s1.Kill()
	if s1.Running() {
		t.Fatal("s1 runs after Kill")
	}
	s1.Start()
	c.WaitLeaderAmong(30*time.Second, s1)
	waitJobsOnEvery(t, 10*time.Second, c.ServersExcept(s2), []string{"harness-kept"})
	if n := strings.Count(s1.Log(), "==> drover agent started"); n != 2 {
		t.Errorf("s1's log shows %d starts, want 2", n)
	}

	// A partition drops packets both ways between the groups, but the
	// root namespace still reaches everyone.
	c.Partition([]*cluster.Agent{s1}, []*cluster.Agent{s2})
	if s1.CanConnect(s2.RPCAddr) || s2.CanConnect(s1.RPCAddr) {
		t.Fatal("partitioned namespaces still reach each other")
	}
	for _, s := range c.Servers() {
		if _, err := s.Leader(); err != nil {
			t.Fatalf("the test cannot reach %s during a partition: %v", s, err)
		}
	}
	c.Heal()
	if !s1.CanConnect(s2.RPCAddr) || !s2.CanConnect(s1.RPCAddr) {
		t.Fatal("healed namespaces cannot reach each other")
	}

	// A paused agent answers nothing; resumed, it answers again.
	s2.Pause()
	if _, err := s2.Leader(); err == nil {
		t.Fatal("a paused agent answered")
	}
	s2.Resume()
	c.WaitLeaderAmong(10*time.Second, s2)

	// A wiped data dir starts empty.
	mustRegister(t, s2, "harness-wiped")
	s2.Stop()
	s2.WipeData()
	s2.Start()
	c.WaitLeaderAmong(30*time.Second, s2)
	waitFor(t, 10*time.Second, "a wiped server without the job", func() (bool, error) {
		_, _, err := s2.API().Jobs().Info("harness-wiped", &api.QueryOptions{AllowStale: true})
		return api.IsNotFound(err), err
	})
}
