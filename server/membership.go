package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/version"
	"github.com/drover-project/drover/server/membership"
	"github.com/drover-project/drover/structs"
)

// GossipConfig says where a server gossips with the other servers of its
// region and whom it joins.
type GossipConfig struct {
	// BindAddr and BindPort are where gossip listens (TCP and UDP); port 0
	// picks a free port.
	BindAddr string
	BindPort int
	// AdvertiseAddr and AdvertisePort are what peers dial; empty and 0 mean
	// the bind address and port.
	AdvertiseAddr string
	AdvertisePort int
	// RetryJoin lists "host:port" addresses of servers to join at start;
	// one that answers is enough. Attempts repeat with back-off.
	RetryJoin []string
	// RetryInterval is the longest pause between join attempts (default 30s).
	RetryInterval time.Duration
	// RetryMax is how many attempts are made before giving up; 0 is no limit.
	RetryMax int
	// Local uses loopback gossip timings (quicker failure detection): tests and dev.
	Local bool
	// ReconnectInterval is how often a failed member is tried again (default 10s).
	ReconnectInterval time.Duration
	// Delegates carries another component's gossip (the service catalog of
	// a client in the same agent) over the server's pool; see
	// membership.Delegates. Its member name is "name.region".
	Delegates *membership.Delegates
}

// membershipTick is how often the membership loop looks again without a
// gossip event, for the timed parts (dead-server cleanup).
const membershipTick = time.Second

// leaveWait bounds how long a leaving follower waits for the leader to take
// it out of the Raft configuration.
const leaveWait = 5 * time.Second

// memberName is this server's name in the pool: "name.region", as Nomad's.
func (s *Server) memberName() string { return s.cfg.NodeName + "." + s.cfg.Region }

// setupMembership starts gossip, the membership loop and retry_join.
func (s *Server) setupMembership() error {
	s.autopilot = newAutopilot(s.autopilotConfig())
	s.publishedRaftState = s.raftState()
	tags, err := s.gossipTags(s.publishedRaftState)
	if err != nil {
		return err
	}
	g := s.cfg.Gossip
	if g.BindAddr == "" {
		// Gossip where RPC listens unless told otherwise.
		g.BindAddr, _, _ = net.SplitHostPort(s.cfg.RPCAddr)
	}
	pool, err := membership.New(membership.Config{
		Name:              s.memberName(),
		BindAddr:          g.BindAddr,
		BindPort:          g.BindPort,
		AdvertiseAddr:     g.AdvertiseAddr,
		AdvertisePort:     g.AdvertisePort,
		Tags:              tags,
		Accept:            s.acceptMember,
		Local:             g.Local,
		ReconnectInterval: g.ReconnectInterval,
		Delegates:         g.Delegates,
		Logger:            s.cfg.Logger,
	})
	if err != nil {
		return err
	}
	s.members = pool

	s.wg.Add(1)
	go s.runMembership()

	if len(g.RetryJoin) > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			<-s.shutdownCh
			cancel()
		}()
		go func() {
			defer s.wg.Done()
			interval := cmp.Or(g.RetryInterval, 30*time.Second)
			if err := pool.RetryJoin(ctx, g.RetryJoin, interval, g.RetryMax); err != nil && ctx.Err() == nil {
				s.log.Error("could not join the other servers; join by hand with `drover server join`", "error", err)
			}
		}()
	}
	return nil
}

func (s *Server) gossipTags(raftState string) (map[string]string, error) {
	return membership.ServerTags(membership.Server{
		Region:     s.cfg.Region,
		Datacenter: s.cfg.Datacenter,
		ID:         string(s.localID),
		RPCAddr:    s.RPCAddr(),
		Expect:     s.cfg.BootstrapExpect,
		Build:      version.Version,
		RaftState:  raftState,
		HTTPAddr:   s.cfg.HTTPAdvertise,
	})
}

// acceptMember keeps servers and clients of other regions (and anything
// that is neither) out of this region's pool. Clients join to find the
// servers; their gossip status is only an early hint about a node: the
// leader's heartbeat TTLs decide when it is down.
func (s *Server) acceptMember(name string, tags map[string]string) error {
	if cl, ok := membership.ParseClient(tags); ok {
		if cl.Region != s.cfg.Region {
			return fmt.Errorf("client %q is in region %q, this pool is region %q", name, cl.Region, s.cfg.Region)
		}
		return nil
	}
	srv, ok := membership.ParseServer(tags)
	if !ok {
		return fmt.Errorf("member %q is not a drover server or client", name)
	}
	if srv.Region != s.cfg.Region {
		return fmt.Errorf("member %q is in region %q, this pool is region %q", name, srv.Region, s.cfg.Region)
	}
	return nil
}

// noteClients logs, on the leader, the clients gossip sees join or fail.
// It is only a hint: the heartbeat TTL alone marks a node down, so a lost
// or forged gossip message never reschedules work. seen holds the statuses
// logged last.
func (s *Server) noteClients(seen map[string]membership.Status) {
	leader := s.IsLeader()
	members := s.members.Members()
	listed := make(map[string]bool, len(members))
	for _, m := range members {
		listed[m.Name] = true
	}
	for name := range seen {
		if !listed[name] {
			delete(seen, name) // reaped
		}
	}
	for _, m := range members {
		cl, ok := membership.ParseClient(m.Tags)
		if !ok || seen[m.Name] == m.Status {
			continue
		}
		seen[m.Name] = m.Status
		if !leader {
			continue
		}
		switch m.Status {
		case membership.StatusAlive:
			s.log.Info("client joined the gossip pool", "node_id", cl.NodeID, "node_name", cl.NodeName)
		case membership.StatusFailed:
			s.log.Info("client looks failed in gossip; its heartbeat TTL decides", "node_id", cl.NodeID, "node_name", cl.NodeName)
		}
	}
}

// raftState says whether this server holds a Raft configuration yet.
func (s *Server) raftState() string {
	f := s.raft.GetConfiguration()
	if f.Error() == nil && len(f.Configuration().Servers) > 0 {
		return membership.RaftStateExisting
	}
	return membership.RaftStateNone
}

// runMembership reacts to gossip: it bootstraps Raft once bootstrap_expect
// servers are present and, on the leader, keeps the Raft configuration in
// line with the members (autopilot.go).
func (s *Server) runMembership() {
	defer s.wg.Done()
	tick := time.NewTicker(membershipTick)
	defer tick.Stop()
	clients := map[string]membership.Status{}
	for {
		s.reconcileMembership()
		s.noteClients(clients)
		select {
		case <-s.members.Changes():
		case <-tick.C:
		case <-s.shutdownCh:
			return
		}
	}
}

func (s *Server) reconcileMembership() {
	state := s.raftState()
	if state != s.publishedRaftState {
		tags, err := s.gossipTags(state)
		if err == nil {
			err = s.members.SetTags(tags)
		}
		if err != nil {
			s.log.Warn("could not gossip the new raft state", "error", err)
		} else {
			s.publishedRaftState = state
		}
	}
	if state == membership.RaftStateNone {
		s.maybeBootstrap()
		return
	}
	if s.IsLeader() {
		s.reconcilePeers(time.Now())
	}
}

// maybeBootstrap forms the first Raft configuration once bootstrap_expect
// servers without Raft state are alive in the pool. Each of them does the
// same with the same list, so the configurations agree. A server that sees
// a member with Raft state waits to be added by that cluster's leader.
func (s *Server) maybeBootstrap() {
	expect := s.cfg.BootstrapExpect
	if s.cfg.Bootstrap || expect < 2 {
		return
	}
	var servers []raft.Server
	for _, m := range s.members.Members() {
		srv, ok := membership.ParseServer(m.Tags)
		if m.Status != membership.StatusAlive || !ok || srv.Region != s.cfg.Region {
			continue
		}
		if srv.RaftState == membership.RaftStateExisting {
			s.logOnce("existing", "a cluster exists already; waiting for its leader to add this server", "member", m.Name)
			return
		}
		if srv.Expect != 0 && srv.Expect != expect {
			s.logOnce("expect", "servers disagree on bootstrap_expect; not bootstrapping", "member", m.Name, "theirs", srv.Expect, "ours", expect)
			return
		}
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(srv.ID), Address: raft.ServerAddress(srv.RPCAddr)})
	}
	if len(servers) < expect {
		return
	}
	slices.SortFunc(servers, func(a, b raft.Server) int { return strings.Compare(string(a.ID), string(b.ID)) })
	err := s.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		s.log.Error("raft bootstrap failed", "error", err)
		return
	}
	s.log.Info("bootstrapped the raft cluster", "servers", len(servers))
}

// logOnce logs a waiting reason the first time it comes up, not every tick.
func (s *Server) logOnce(key, msg string, args ...any) {
	if s.loggedOnce[key] {
		return
	}
	if s.loggedOnce == nil {
		s.loggedOnce = map[string]bool{}
	}
	s.loggedOnce[key] = true
	s.log.Info(msg, args...)
}

// GossipAddr is the address ("ip:port") other servers join this one on.
func (s *Server) GossipAddr() string { return s.members.Addr() }

// Members lists the servers of the region as this server's gossip sees
// them, in Nomad's /v1/agent/members shape, with each one's place in the
// Raft configuration.
func (s *Server) Members() *structs.ServerMembers {
	suffrage := map[string]string{}
	if f := s.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			suffrage[string(srv.ID)] = strings.ToLower(srv.Suffrage.String())
		}
	}
	_, leaderID := s.raft.LeaderWithID()
	out := &structs.ServerMembers{
		ServerName:   s.cfg.NodeName,
		ServerRegion: s.cfg.Region,
		ServerDC:     s.cfg.Datacenter,
		Members:      []*structs.AgentMember{},
	}
	for _, m := range s.members.Members() {
		if m.Tags[membership.TagRole] == membership.RoleClient {
			continue // server members lists servers, as Nomad's
		}
		id := m.Tags[membership.TagID]
		out.Members = append(out.Members, &structs.AgentMember{
			Name:        m.Name,
			Addr:        m.Addr.String(),
			Port:        m.Port,
			Tags:        m.Tags,
			Status:      string(m.Status),
			ProtocolMin: m.PMin, ProtocolMax: m.PMax, ProtocolCur: m.PCur,
			DelegateMin: m.DMin, DelegateMax: m.DMax, DelegateCur: m.DCur,
			Leader:    id != "" && raft.ServerID(id) == leaderID,
			RaftState: cmp.Or(suffrage[id], "none"),
		})
	}
	return out
}

// Join asks the servers at addrs ("host:port") to merge pools with this one.
func (s *Server) Join(addrs []string) (int, error) { return s.members.Join(addrs) }

// ForceLeave turns a failed server into a left one, so the leader takes it
// out of the Raft configuration at once; prune also drops it from the
// member list. name may leave out the ".region" suffix.
//
// The change is gossiped, and the leader is also told directly (over RPC
// from a follower): it is the leader that removes the server from Raft, and
// one lost gossip broadcast would otherwise leave the server in the
// configuration with nothing to repair it. The leader checks its own view
// too: it refuses a member that it still sees alive.
func (s *Server) ForceLeave(name string, prune bool) error {
	m, ok := s.lookupMember(name)
	if !ok {
		return structs.NotFound(fmt.Errorf("%w %q", membership.ErrUnknownMember, name))
	}
	if err := forceLeaveError(s.members.ForceLeave(m.Name, prune)); err != nil {
		return err
	}
	// The Raft ID is read before a prune drops the member: the leader
	// needs it if the pruned member is gone from its own list.
	args := &forceLeaveArgs{Name: m.Name, Prune: prune}
	if srv, ok := membership.ParseServer(m.Tags); ok && srv.Region == s.cfg.Region {
		args.ID = srv.ID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*operatorLeaderWait)
	defer cancel()
	if err := s.forceLeaveOnLeader(ctx, args); err != nil {
		return fmt.Errorf("%s is marked left on this server and gossiped, but the leader did not take it: %w", m.Name, err)
	}
	return nil
}

// lookupMember finds a member by its full name or by its name without the
// ".region" suffix.
func (s *Server) lookupMember(name string) (membership.Member, bool) {
	var short membership.Member
	found := false
	for _, m := range s.members.Members() {
		switch m.Name {
		case name:
			return m, true
		case name + "." + s.cfg.Region:
			short, found = m, true
		}
	}
	return short, found
}

func forceLeaveError(err error) error {
	switch {
	case errors.Is(err, membership.ErrUnknownMember):
		return structs.NotFound(err)
	case errors.Is(err, membership.ErrMemberAlive):
		return structs.BadRequest(err)
	}
	return err
}

// forceLeaveArgs is a force-leave passed to the leader. ID is the member's
// Raft ID ("" for a member that is not a server of this region).
type forceLeaveArgs struct {
	Name  string
	ID    string
	Prune bool
}

// forceLeaveOnLeader applies a force-leave on the leader, forwarding it
// there from a follower. The leader marks the member left in its own pool
// (a no-op when gossip got there first), and its membership loop removes
// the server from Raft as for any server that left (autopilot.go). A
// pruned member is no longer listed, so nothing would tell the loop that
// it left: the leader removes it from Raft here.
func (s *Server) forceLeaveOnLeader(ctx context.Context, a *forceLeaveArgs) error {
	if ok, err := s.forwardOperator(ctx, "Operator.ForceLeave", a, nil); ok {
		return err
	}
	err := s.members.ForceLeave(a.Name, a.Prune)
	switch {
	case errors.Is(err, membership.ErrUnknownMember) && a.Prune:
		// Pruned already by the gossiped force-leave.
	case errors.Is(err, membership.ErrMemberAlive):
		return structs.BadRequest(fmt.Errorf("the leader still sees the member alive: %w", err))
	case err != nil:
		return forceLeaveError(fmt.Errorf("on the leader: %w", err))
	}
	if !a.Prune || a.ID == "" || raft.ServerID(a.ID) == s.localID {
		return nil
	}
	for _, srv := range s.raftServers() {
		if srv.ID != raft.ServerID(a.ID) {
			continue
		}
		if err := s.raft.RemoveServer(srv.ID, 0, 0).Error(); err != nil {
			return fmt.Errorf("remove the pruned server %s from the raft configuration: %w", a.Name, err)
		}
		s.log.Info("removed a pruned server from the raft configuration", "member", a.Name, "id", srv.ID, "address", srv.Address)
	}
	return nil
}

// Leave takes this server out of the cluster on purpose: a leader first
// removes itself from the Raft configuration (handing leadership over), a
// follower announces its leave and waits, a little, for the leader to remove
// it. Call Shutdown afterwards.
func (s *Server) Leave() error {
	voters := 0
	if f := s.raft.GetConfiguration(); f.Error() == nil {
		for _, srv := range f.Configuration().Servers {
			if srv.Suffrage == raft.Voter {
				voters++
			}
		}
	}
	removeSelf := func() {
		if err := s.raft.RemoveServer(s.localID, 0, 0).Error(); err != nil {
			s.log.Error("leader could not remove itself from the raft configuration", "error", err)
		}
	}
	if s.IsLeader() && voters > 1 {
		removeSelf()
	}
	if err := s.members.Leave(leaveWait); err != nil {
		return fmt.Errorf("gossip leave: %w", err)
	}
	if voters <= 1 {
		return nil
	}
	left := time.Now()
	deadline := left.Add(leaveWait)
	asked := false
	for time.Now().Before(deadline) {
		if !s.inRaftConfiguration() {
			return nil
		}
		// Leadership may come to this server after it looked above (or
		// its removal may have failed): the leader's autopilot never
		// removes the leader itself, so it would stay in the
		// configuration, and lead, until it shuts down.
		if s.IsLeader() {
			removeSelf()
		} else if !asked && time.Since(left) > leaveAskLeaderAfter {
			// The leader removes a server when gossip tells it of the
			// leave, but that message can be lost, and this server still
			// answers probes until it shuts down, so nothing else would
			// tell it: ask the leader directly.
			ctx, cancel := context.WithTimeout(context.Background(), operatorLeaderWait)
			err := s.RemoveRaftPeer(ctx, "", string(s.localID))
			cancel()
			if err != nil {
				s.log.Warn("could not ask the leader to remove this server from the raft configuration", "error", err)
			}
			asked = err == nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.log.Warn("left the gossip pool, but the leader has not removed this server from the raft configuration yet")
	return nil
}

// leaveAskLeaderAfter is how long a leaving follower waits for the leader
// to act on its gossip leave before asking it over RPC.
const leaveAskLeaderAfter = 2 * time.Second

func (s *Server) inRaftConfiguration() bool {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	for _, srv := range f.Configuration().Servers {
		if srv.ID == s.localID {
			return true
		}
	}
	return false
}

// shutdownMembership stops gossip without a goodbye (see Leave for one).
func (s *Server) shutdownMembership() {
	if s.members != nil {
		if err := s.members.Shutdown(); err != nil {
			s.log.Warn("gossip shutdown", "error", err)
		}
	}
}
