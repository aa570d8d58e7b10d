package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/e2e/cluster"
)

// TestClusterWipedFollowerCatchesUp stops a follower, wipes its data dir
// (a replaced disk) and starts it again while the other two kept taking
// writes and truncated their Raft logs: it rejoins, catches up from a
// snapshot with every job, written before and while it was away, and is a
// voter again.
func TestClusterWipedFollowerCatchesUp(t *testing.T) {
	c := newCluster(t, cluster.Options{Servers: 3, ServerConfig: snapshotOftenConfig})
	leader := c.WaitLeader(60 * time.Second)
	var jobs []string
	write := func(n int) {
		t.Helper()
		for range n {
			id := fmt.Sprintf("catchup-%03d", len(jobs))
			mustRegister(t, leader, id)
			jobs = append(jobs, id)
		}
	}
	write(30)
	waitJobsOnEvery(t, 30*time.Second, c.Servers(), jobs)

	wiped := c.ServersExcept(leader)[0]
	wiped.Stop()
	wiped.WipeData()
	write(10)
	// The leader's log must have lost its first entries, so the wiped
	// server cannot be sent them. The evidence is hashicorp/raft's own log
	// line, which the agent passes on.
	waitFor(t, 30*time.Second, "the leader to compact its Raft log", func() (bool, error) {
		return strings.Contains(leader.Log(), `msg="compacting logs"`), nil
	})
	before := len(wiped.Log())
	wiped.Start()

	waitJobsOnEvery(t, 60*time.Second, []*cluster.Agent{wiped}, jobs)
	if !strings.Contains(wiped.Log()[before:], `msg="Installed remote snapshot"`) {
		t.Errorf("%s caught up without installing a snapshot", wiped.Name)
	}
	waitStatesAgree(t, 30*time.Second, c.Servers())
	leader = c.WaitLeader(30 * time.Second)
	waitFor(t, 30*time.Second, "3 Raft peers", func() (bool, error) {
		peers, err := leader.API().Status().Peers()
		if err != nil {
			return false, err
		}
		return len(peers) == 3, fmt.Errorf("peers %v", peers)
	})
}

// snapshotOftenConfig makes servers snapshot and truncate their Raft log
// after a handful of entries, so a server that lost its data must catch
// up from a snapshot rather than from the log.
const snapshotOftenConfig = `
server {
  raft_snapshot_threshold = 8
  raft_snapshot_interval  = "1s"
  raft_trailing_logs      = 4
}
`
