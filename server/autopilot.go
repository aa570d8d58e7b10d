package server

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/membership"
)

// AutopilotConfig is the leader's management of Raft peers, after Nomad's
// and Consul's autopilot.
type AutopilotConfig struct {
	// CleanupDeadServers removes servers that gossip reports failed (or
	// that gossip does not know at all) for ServerStabilizationTime from
	// the Raft configuration, as long as quorum stays safe.
	CleanupDeadServers bool
	// ServerStabilizationTime is how long a server must stay failed before
	// it is removed, so a restart or a short partition does not shrink the
	// configuration.
	ServerStabilizationTime time.Duration
	// MinQuorum is the fewest voters dead-server cleanup leaves. Zero means
	// a majority of bootstrap_expect.
	MinQuorum int
}

// DefaultAutopilotConfig is Nomad's default: cleanup on, 10 s stabilization.
func DefaultAutopilotConfig() AutopilotConfig {
	return AutopilotConfig{CleanupDeadServers: true, ServerStabilizationTime: 10 * time.Second}
}

func (s *Server) autopilotConfig() AutopilotConfig {
	c := DefaultAutopilotConfig()
	if s.cfg.Autopilot != nil {
		c = *s.cfg.Autopilot
	}
	if c.MinQuorum == 0 && s.cfg.BootstrapExpect > 1 {
		c.MinQuorum = s.cfg.BootstrapExpect/2 + 1
	}
	return c
}

// autopilot decides, on the leader, which Raft peers to add and remove. It
// is pure apart from remembering since when a peer has been unknown to
// gossip, and takes the time as an argument, so tests drive it with a clock.
type autopilot struct {
	cfg AutopilotConfig
	// missingSince is when a server of the configuration was first seen
	// without any gossip member.
	missingSince map[raft.ServerID]time.Time
}

func newAutopilot(cfg AutopilotConfig) *autopilot {
	return &autopilot{cfg: cfg, missingSince: map[raft.ServerID]time.Time{}}
}

// peerChange is one change of the Raft configuration.
type peerChange struct {
	remove bool
	id     raft.ServerID
	addr   raft.ServerAddress
	name   string
	why    string
}

// plan compares the members of the region with the Raft configuration:
//   - an alive server missing from the configuration (or there with another
//     address, or as a non-voter) is added as a voter;
//   - a server that left is removed;
//   - with CleanupDeadServers, a server failed (or unknown to gossip) for
//     ServerStabilizationTime is removed, but no more than (voters-1)/2 at
//     once and never below MinQuorum voters: the survivors must still be a
//     majority of what they were. This is autopilot's rule.
//
// held lists the dead servers kept because of those limits.
func (a *autopilot) plan(now time.Time, self raft.ServerID, region string, members []membership.Member, conf raft.Configuration) (changes []peerChange, held []string) {
	// The region's servers by Raft ID. A restarted server with a wiped data
	// dir shows up under its old name with a new ID; if two members claim
	// an ID, the alive one counts.
	byID := map[raft.ServerID]membership.Member{}
	for _, m := range members {
		srv, ok := membership.ParseServer(m.Tags)
		if !ok || srv.Region != region {
			continue
		}
		id := raft.ServerID(srv.ID)
		if prev, seen := byID[id]; seen && prev.Status == membership.StatusAlive {
			continue
		}
		byID[id] = m
	}
	servers := slices.Clone(conf.Servers)
	slices.SortFunc(servers, func(x, y raft.Server) int { return strings.Compare(string(x.ID), string(y.ID)) })
	inConf := map[raft.ServerID]raft.Server{}
	for _, srv := range servers {
		inConf[srv.ID] = srv
		if _, known := byID[srv.ID]; known {
			delete(a.missingSince, srv.ID)
		} else if _, ok := a.missingSince[srv.ID]; !ok {
			a.missingSince[srv.ID] = now
		}
	}
	for id := range a.missingSince {
		if _, ok := inConf[id]; !ok {
			delete(a.missingSince, id)
		}
	}

	// Additions.
	ids := make([]raft.ServerID, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		m := byID[id]
		if m.Status != membership.StatusAlive {
			continue
		}
		srv, _ := membership.ParseServer(m.Tags)
		addr := raft.ServerAddress(srv.RPCAddr)
		cur, ok := inConf[id]
		switch {
		case !ok:
			changes = append(changes, peerChange{id: id, addr: addr, name: m.Name, why: "joined the region's gossip pool"})
		case cur.Address != addr:
			changes = append(changes, peerChange{id: id, addr: addr, name: m.Name, why: fmt.Sprintf("moved from %s", cur.Address)})
		case cur.Suffrage != raft.Voter:
			changes = append(changes, peerChange{id: id, addr: addr, name: m.Name, why: "is a non-voter"})
		}
	}

	// Removals of servers that left, then of dead ones.
	voters := 0
	for _, srv := range servers {
		if srv.Suffrage == raft.Voter {
			voters++
		}
	}
	var dead []raft.Server
	for _, srv := range servers {
		if srv.ID == self {
			continue
		}
		m, known := byID[srv.ID]
		if known && m.Status == membership.StatusLeft {
			changes = append(changes, peerChange{remove: true, id: srv.ID, addr: srv.Address, name: m.Name, why: "left the cluster"})
			if srv.Suffrage == raft.Voter {
				voters--
			}
			continue
		}
		var since time.Time
		switch {
		case !known && len(byID) < 2:
			// A leader whose gossip knows no other server cannot tell a
			// stale peer from broken gossip: keep it.
			continue
		case !known:
			since = a.missingSince[srv.ID]
		case m.Status == membership.StatusFailed:
			since = m.Since
		default:
			continue
		}
		if !a.cfg.CleanupDeadServers || now.Sub(since) < a.cfg.ServerStabilizationTime {
			continue
		}
		dead = append(dead, srv)
	}
	maxRemovals := (voters - 1) / 2
	for _, srv := range dead {
		name := byID[srv.ID].Name
		if name == "" {
			name = "(unknown to gossip)"
		}
		if srv.Suffrage == raft.Voter {
			if maxRemovals < 1 || voters-1 < a.cfg.MinQuorum {
				held = append(held, fmt.Sprintf("%s %s: removing it would leave %d voters (min_quorum %d, at most %d removals at once)",
					name, srv.ID, voters-1, a.cfg.MinQuorum, (voters-1)/2))
				continue
			}
			voters--
			maxRemovals--
		}
		changes = append(changes, peerChange{remove: true, id: srv.ID, addr: srv.Address, name: name, why: "dead for longer than server_stabilization_time"})
	}
	return changes, held
}

// reconcilePeers applies the autopilot's plan. Only the leader calls it.
func (s *Server) reconcilePeers(now time.Time) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		s.log.Warn("autopilot: read raft configuration", "error", err)
		return
	}
	changes, held := s.autopilot.plan(now, s.localID, s.cfg.Region, s.members.Members(), f.Configuration())
	for _, h := range held {
		s.log.Debug("autopilot: keeping a dead server", "reason", h)
	}
	for _, c := range changes {
		var err error
		if c.remove {
			err = s.raft.RemoveServer(c.id, 0, 0).Error()
		} else {
			err = s.raft.AddVoter(c.id, c.addr, 0, 0).Error()
		}
		verb := map[bool]string{false: "added a voter", true: "removed a server"}[c.remove]
		if err != nil {
			s.log.Warn("autopilot: raft configuration change failed", "change", verb, "member", c.name, "id", c.id, "error", err)
			return
		}
		s.log.Info("autopilot: "+verb, "member", c.name, "id", c.id, "address", c.addr, "because", c.why)
	}
}
