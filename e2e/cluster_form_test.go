package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/e2e/cluster"
)

// TestClusterFormsFromOneJoinAddress starts 3, then 5 servers that know
// only the first one's gossip address: they find each other, agree on one
// leader with every server a Raft voter, list each other as alive members,
// and a write sent to a follower reaches every server's state.
func TestClusterFormsFromOneJoinAddress(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) {
			c := newCluster(t, cluster.Options{Servers: n})
			leader := c.WaitLeader(60 * time.Second)

			for _, s := range c.Servers() {
				waitFor(t, 30*time.Second, fmt.Sprintf("%d Raft peers on %s", n, s.Name), func() (bool, error) {
					peers, err := s.API().Status().Peers()
					if err != nil {
						return false, err
					}
					return len(peers) == n, fmt.Errorf("peers %v", peers)
				})
			}

			var out string
			waitFor(t, 30*time.Second, "every server alive in `drover server members`", func() (bool, error) {
				var code int
				out, code = droverAt(t, leader.HTTP, "server", "members")
				if code != 0 {
					return false, fmt.Errorf("exit %d: %s", code, out)
				}
				for _, s := range c.Servers() {
					if !hasLineWith(out, s.Name, "alive") {
						return false, fmt.Errorf("%s is not listed alive:\n%s", s.Name, out)
					}
				}
				return true, nil
			})

			t.Logf("drover server members:\n%s", out)

			follower := c.ServersExcept(leader)[0]
			id := fmt.Sprintf("formed-%d", n)
			mustRegister(t, follower, id)
			waitJobsOnEvery(t, 20*time.Second, c.Servers(), []string{id})
		})
	}
}

// hasLineWith reports whether one line of out contains every word.
func hasLineWith(out string, words ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}
