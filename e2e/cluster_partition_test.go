package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
)

// TestClusterPartitionedLeaderStopsAcknowledging cuts the leader off from
// both followers. The old leader acknowledges no write sent to it after
// the cut; the two followers elect a leader of their own and keep taking
// writes, through either of them, while a writer keeps writing through
// them until after the heal. Once healed there is one leader, and every
// server ends with the same jobs at the same index, every acknowledged
// write among them.
func TestClusterPartitionedLeaderStopsAcknowledging(t *testing.T) {
	c := newCluster(t, cluster.Options{Servers: 3})
	old := c.WaitLeader(60 * time.Second)
	acked := []string{"before-partition"}
	mustRegister(t, old, acked[0])
	waitJobsOnEvery(t, 20*time.Second, c.Servers(), acked)

	majority := c.ServersExcept(old)
	c.Partition([]*cluster.Agent{old}, majority)
	// Steady writes through the majority, on across the heal: the moment
	// where a returning old leader could make logs diverge (hashicorp/raft
	// issue 695).
	w := startWriter(t, "partition", 40*time.Millisecond, majority)

	// Writes to the old leader, sent while the majority elects: none may
	// be acknowledged. Whether one is applied later is unknown to its
	// sender, so the end state is not checked for them.
	cut, err := api.NewClient(&api.Config{Address: old.HTTP, HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	var minority sync.WaitGroup
	minorityAcked := make(chan string, 3)
	for i := range 3 {
		job := serverOnlyJob(t, fmt.Sprintf("minority-%d", i))
		minority.Go(func() {
			begin := time.Now()
			_, err := cut.Jobs().Register(job)
			if err == nil {
				minorityAcked <- job.ID
				return
			}
			t.Logf("the cut-off old leader refused %s after %s: %v", job.ID, time.Since(begin).Round(time.Millisecond), err)
		})
	}

	next := c.WaitLeaderAmong(30*time.Second, majority...)
	if next == old {
		t.Fatalf("the majority names the cut-off %s its leader", old.Name)
	}
	for i, via := range []*cluster.Agent{next, c.ServersExcept(old, next)[0], next} {
		id := fmt.Sprintf("majority-%d", i)
		mustRegister(t, via, id)
		acked = append(acked, id)
	}

	minority.Wait()
	close(minorityAcked)
	for id := range minorityAcked {
		t.Errorf("the cut-off old leader acknowledged %s", id)
	}

	c.Heal()
	healed := time.Now()
	leader := c.WaitLeader(60 * time.Second)
	t.Logf("healed; %s leads", leader.Name)
	waitFor(t, 30*time.Second, "20 acknowledged writes after healing", func() (bool, error) {
		n := w.ackedSince(healed)
		return n >= 20, fmt.Errorf("%d acknowledged", n)
	})
	written, failed := w.Stop()
	t.Logf("the steady writer: %d writes acknowledged, %d failed", len(written), len(failed))
	acked = append(acked, written...)
	jobs := waitStatesAgree(t, 60*time.Second, c.Servers())
	for _, id := range acked {
		if !jobs[id] {
			t.Errorf("acknowledged job %s is missing after healing; the servers agree on %v", id, sortedKeys(jobs))
		}
	}
}
