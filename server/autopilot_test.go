package server

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/membership"
)

// member makes a gossip member for server id at 10.0.0.<id>.
func member(id string, status membership.Status, since time.Time) membership.Member {
	tags, _ := membership.ServerTags(membership.Server{Region: "global", ID: id, RPCAddr: "10.0.0." + id + ":4747", RaftState: membership.RaftStateExisting})
	return membership.Member{Name: "s" + id + ".global", Tags: tags, Status: status, Since: since}
}

func voterConf(ids ...string) raft.Configuration {
	var c raft.Configuration
	for _, id := range ids {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress("10.0.0." + id + ":4747")})
	}
	return c
}

func describe(changes []peerChange) string {
	var out []string
	for _, c := range changes {
		verb := "add"
		if c.remove {
			verb = "remove"
		}
		out = append(out, verb+" "+string(c.id))
	}
	return strings.Join(out, ", ")
}

func TestAutopilotPlan(t *testing.T) {
	t0 := time.Unix(1000, 0)
	alive := membership.StatusAlive
	failed := membership.StatusFailed
	left := membership.StatusLeft
	cfg := AutopilotConfig{CleanupDeadServers: true, ServerStabilizationTime: 10 * time.Second, MinQuorum: 2}
	for _, tc := range []struct {
		name    string
		cfg     AutopilotConfig
		members []membership.Member
		conf    raft.Configuration
		now     time.Time
		want    string
		held    int
	}{
		{name: "in line", members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("3", alive, t0)},
			conf: voterConf("1", "2", "3"), now: t0, want: ""},
		{name: "a new server is added", members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("4", alive, t0)},
			conf: voterConf("1", "2"), now: t0, want: "add 4"},
		{name: "a server that left is removed at once", members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("3", left, t0)},
			conf: voterConf("1", "2", "3"), now: t0, want: "remove 3"},
		{name: "a failed server stays during stabilization", members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("3", failed, t0)},
			conf: voterConf("1", "2", "3"), now: t0.Add(9 * time.Second), want: ""},
		{name: "then goes", members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("3", failed, t0)},
			conf: voterConf("1", "2", "3"), now: t0.Add(10 * time.Second), want: "remove 3"},
		{name: "not with cleanup off", cfg: AutopilotConfig{ServerStabilizationTime: time.Second}, members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("3", failed, t0)},
			conf: voterConf("1", "2", "3"), now: t0.Add(time.Hour), want: ""},
		{name: "never below min_quorum", members: []membership.Member{member("1", alive, t0), member("2", failed, t0)},
			conf: voterConf("1", "2"), now: t0.Add(time.Hour), want: "", held: 1},
		{name: "at most a minority at once", cfg: AutopilotConfig{CleanupDeadServers: true, ServerStabilizationTime: time.Second},
			members: []membership.Member{member("1", alive, t0), member("2", alive, t0), member("3", failed, t0), member("4", failed, t0), member("5", failed, t0)},
			conf:    voterConf("1", "2", "3", "4", "5"), now: t0.Add(time.Hour), want: "remove 3, remove 4", held: 1},
		{name: "the leader is never removed", members: []membership.Member{member("1", failed, t0), member("2", alive, t0), member("3", alive, t0)},
			conf: voterConf("1", "2", "3"), now: t0.Add(time.Hour), want: ""},
		{name: "a moved server is updated", members: []membership.Member{member("1", alive, t0), member("2", alive, t0)},
			conf: raft.Configuration{Servers: []raft.Server{voterConf("1").Servers[0], {Suffrage: raft.Voter, ID: "2", Address: "10.9.9.9:4747"}}}, now: t0, want: "add 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.cfg != (AutopilotConfig{}) {
				c = tc.cfg
			}
			changes, held := newAutopilot(c).plan(tc.now, "1", "global", tc.members, tc.conf)
			if got := describe(changes); got != tc.want || len(held) != tc.held {
				t.Fatalf("changes %q held %v; want %q and %d held", got, held, tc.want, tc.held)
			}
		})
	}
}

// A server in the configuration that gossip does not know (its data dir was
// wiped and it came back under a new ID) goes after the stabilization time,
// counted from when the leader first missed it.
func TestAutopilotRemovesServersUnknownToGossip(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ap := newAutopilot(AutopilotConfig{CleanupDeadServers: true, ServerStabilizationTime: 10 * time.Second, MinQuorum: 2})
	members := []membership.Member{member("1", membership.StatusAlive, t0), member("2", membership.StatusAlive, t0), member("4", membership.StatusAlive, t0)}
	conf := voterConf("1", "2", "3", "4")
	if changes, _ := ap.plan(t0, "1", "global", members, conf); len(changes) != 0 {
		t.Fatalf("first sight: %s", describe(changes))
	}
	if changes, _ := ap.plan(t0.Add(9*time.Second), "1", "global", members, conf); len(changes) != 0 {
		t.Fatalf("within stabilization: %s", describe(changes))
	}
	if changes, _ := ap.plan(t0.Add(10*time.Second), "1", "global", members, conf); describe(changes) != "remove 3" {
		t.Fatalf("after stabilization: %s", describe(changes))
	}
	// A leader that gossips with nobody keeps peers it cannot see.
	lonely := newAutopilot(ap.cfg)
	lonely.plan(t0, "1", "global", members[:1], voterConf("1", "2", "3"))
	if changes, _ := lonely.plan(t0.Add(time.Hour), "1", "global", members[:1], voterConf("1", "2", "3")); len(changes) != 0 {
		t.Fatalf("lonely leader: %s", describe(changes))
	}
}
