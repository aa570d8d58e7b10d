package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/drover-project/drover/e2e/cluster"
)

// TestClusterLeaderKillLosesNoAcknowledgedWrite kills the leader with
// SIGKILL while a writer registers jobs at a steady rate through every
// server: the two others elect a new leader and take writes again, and
// every registration that was acknowledged, before or after the kill, is
// in every server's own state, the killed one's too once it is back.
func TestClusterLeaderKillLosesNoAcknowledgedWrite(t *testing.T) {
	c := newCluster(t, cluster.Options{Servers: 3})
	old := c.WaitLeader(60 * time.Second)
	w := startWriter(t, "failover", 40*time.Millisecond, c.Servers())

	start := time.Now()
	waitFor(t, 30*time.Second, "20 acknowledged writes before the kill", func() (bool, error) {
		n := w.ackedSince(start)
		return n >= 20, fmt.Errorf("%d acknowledged", n)
	})
	old.Kill()
	killed := time.Now()
	survivors := c.ServersExcept(old)
	next := c.WaitLeaderAmong(30*time.Second, survivors...)
	t.Logf("%s killed; %s leads after %s", old.Name, next.Name, time.Since(killed).Round(time.Millisecond))
	elected := time.Now()
	waitFor(t, 30*time.Second, "20 acknowledged writes under the new leader", func() (bool, error) {
		n := w.ackedSince(elected)
		return n >= 20, fmt.Errorf("%d acknowledged", n)
	})
	acked, failed := w.Stop()
	t.Logf("%d writes acknowledged, %d failed", len(acked), len(failed))
	for _, err := range failed[:min(3, len(failed))] {
		t.Logf("a failed write: %v", err)
	}

	waitJobsOnEvery(t, 30*time.Second, survivors, acked)
	old.Start()
	waitJobsOnEvery(t, 60*time.Second, []*cluster.Agent{old}, acked)
	c.WaitLeader(30 * time.Second)
}
