package catalog

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/structs"
)

// The first byte of every message and state the catalog puts into the
// pool, so that a delegate shared with other users of the pool can tell
// the catalog's messages apart (and the catalog ignores anything else).
const (
	MsgUpdate byte = 0xC1
	MsgState  byte = 0xC2
)

// maxBroadcast is the largest update sent as a broadcast: memberlist packs
// broadcasts into UDP packets of about 1400 bytes. A larger instance (many
// tags or meta) spreads only through the full-state exchange.
const maxBroadcast = 1200

// wireEntry is one instance as gossiped; Reg is nil for a deletion.
type wireEntry struct {
	ID      string
	Version uint64
	Reg     *structs.ServiceRegistration `json:",omitempty"`
}

// update is one change of one instance, in its owner's words. Relays pass
// it on unchanged.
type update struct {
	Origin string // the owner's node ID
	Member string // the owner's memberlist name
	Entry  wireEntry
}

// state is what a node knows, for memberlist's push/pull exchange: its
// own instances, and the instances it heard of from other nodes, one
// section per owner.
type state struct {
	Origin string
	Owners []section
}

// section is an owner's instances as of Snapshot: every instance of the
// owner's with a version up to Snapshot that is not listed was deleted.
// Deletions heard of since are listed as entries without Reg.
type section struct {
	Owner    string
	Member   string
	Snapshot uint64
	Entries  []wireEntry
}

// Delegate returns the memberlist.Delegate that carries the catalog: give
// it to memberlist.Config.Delegate (or call it from a delegate that shares
// the pool, by the first byte of each message).
func (c *Catalog) Delegate() memberlist.Delegate { return (*delegate)(c) }

// EventDelegate returns the memberlist.EventDelegate that tells the catalog
// who is in the pool: give it to memberlist.Config.Events. Without it,
// instances of nodes that leave are never removed.
func (c *Catalog) EventDelegate() memberlist.EventDelegate { return (*events)(c) }

type delegate Catalog

// NodeMeta is not used by the catalog.
func (d *delegate) NodeMeta(limit int) []byte { return nil }

// NotifyMsg applies a received update and passes it on when it was new to
// this node, so that it reaches the whole pool whatever its size.
func (d *delegate) NotifyMsg(msg []byte) {
	c := (*Catalog)(d)
	if len(msg) == 0 || msg[0] != MsgUpdate {
		return
	}
	var u update
	if err := json.Unmarshal(msg[1:], &u); err != nil {
		c.cfg.Logger.Warn("catalog: dropping a malformed gossip message", "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.acceptLocked(u.Origin, u.Member, u.Entry) {
		return
	}
	if c.applyLocked(c.ownerLocked(u.Origin, u.Member), u.Entry) {
		if c.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
			health := "deleted"
			if u.Entry.Reg != nil {
				health = u.Entry.Reg.Health
			}
			c.cfg.Logger.Debug("catalog: update applied", "node", u.Origin, "instance", u.Entry.ID, "version", u.Entry.Version, "health", health)
		}
		c.queue.QueueBroadcast(broadcast{name: u.Origin + "/" + u.Entry.ID, msg: append([]byte(nil), msg...)})
		c.notifyLocked()
	}
}

// GetBroadcasts hands memberlist the queued updates.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}

// LocalState is everything this node knows, for the push/pull exchange:
// its own instances first-hand, and the other owners' as relayed words.
func (d *delegate) LocalState(join bool) []byte {
	c := (*Catalog)(d)
	c.mu.Lock()
	s := state{Origin: c.cfg.NodeID}
	for id, o := range c.owners {
		if !o.leftAt.IsZero() {
			continue // out of service: not ours to spread
		}
		sec := section{Owner: id, Member: o.member, Snapshot: o.snapshot}
		if id == c.cfg.NodeID {
			sec.Snapshot = c.version
		}
		for iid, e := range o.entries {
			sec.Entries = append(sec.Entries, wireEntry{ID: iid, Version: e.version, Reg: e.reg})
		}
		s.Owners = append(s.Owners, sec)
	}
	c.mu.Unlock()
	b, err := json.Marshal(s)
	if err != nil {
		c.cfg.Logger.Error("catalog: encoding the local state", "error", err)
		return nil
	}
	return append([]byte{MsgState}, b...)
}

// MergeRemoteState applies another node's state, owner by owner.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	c := (*Catalog)(d)
	if len(buf) == 0 || buf[0] != MsgState {
		return
	}
	var s state
	if err := json.Unmarshal(buf[1:], &s); err != nil {
		c.cfg.Logger.Warn("catalog: dropping a malformed remote state", "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	for _, sec := range s.Owners {
		if c.mergeSectionLocked(s.Origin, sec) {
			changed = true
			c.cfg.Logger.Debug("catalog: full state changed a node's instances", "from", s.Origin, "node", sec.Owner, "snapshot", sec.Snapshot, "instances", len(sec.Entries))
		}
	}
	if changed {
		c.notifyLocked()
	}
}

// mergeSectionLocked applies one owner's section: its entries, and the
// removal of what the owner no longer had at the section's snapshot. A
// relayed section (about another node than the sender) is only heard for
// a member this node knows to be alive, so that a node gone before this
// one joined is not brought back by hearsay.
func (c *Catalog) mergeSectionLocked(origin string, sec section) bool {
	if sec.Owner == "" || sec.Owner == c.cfg.NodeID {
		return false
	}
	if _, gone := c.departed[sec.Member]; gone {
		return false
	}
	if sec.Owner != origin && !c.members[sec.Member] {
		return false
	}
	for _, e := range sec.Entries {
		if !c.acceptLocked(sec.Owner, sec.Member, e) {
			return false // one forged entry discredits the whole section
		}
	}
	o := c.ownerLocked(sec.Owner, sec.Member)
	changed := false
	listed := make(map[string]bool, len(sec.Entries))
	for _, e := range sec.Entries {
		listed[e.ID] = true
		changed = c.applyLocked(o, e) || changed
	}
	if sec.Snapshot > o.snapshot {
		// What the owner no longer lists, and we heard of before its
		// snapshot, was deleted (or belongs to its previous run).
		for id, e := range o.entries {
			if !listed[id] && e.version <= sec.Snapshot {
				changed = changed || e.reg != nil
				c.removeLocked(o, id)
			}
		}
		o.snapshot = sec.Snapshot
	}
	return changed
}

// acceptLocked decides whether a message may change an instance: only its
// owner may (the instance must name the sender as its node, and no other
// node may hold an instance of that ID), nobody changes this node's own
// instances, and a node whose instances expired is not heard until it
// rejoins.
func (c *Catalog) acceptLocked(origin, member string, e wireEntry) bool {
	if origin == "" || e.ID == "" || origin == c.cfg.NodeID {
		return false
	}
	if e.Reg != nil && (e.Reg.NodeID != origin || e.Reg.ID != e.ID) {
		c.cfg.Logger.Warn("catalog: ignoring a message about another node's instance", "from", origin, "instance", e.ID, "node", e.Reg.NodeID)
		return false
	}
	for id, o := range c.owners {
		if id != origin {
			if other := o.entries[e.ID]; other != nil && other.reg != nil {
				c.cfg.Logger.Warn("catalog: ignoring a message about another node's instance", "from", origin, "instance", e.ID, "node", id)
				return false
			}
		}
	}
	if _, gone := c.departed[member]; gone {
		return false
	}
	return true
}

// ownerLocked returns the owner record of a node, creating it.
func (c *Catalog) ownerLocked(id, member string) *owner {
	o := c.owners[id]
	if o == nil {
		o = &owner{id: id, member: member, entries: map[string]*entry{}}
		if alive, known := c.members[member]; known && !alive {
			// Heard of through a relay after its member left: it is out
			// of service and expires like any node that left.
			o.leftAt = c.cfg.Clock.Now()
		}
		c.owners[id] = o
	}
	o.member = member
	return o
}

// applyLocked applies one entry if it is newer than what the owner said
// before; it reports whether it was.
func (c *Catalog) applyLocked(o *owner, e wireEntry) bool {
	cur := o.entries[e.ID]
	if cur != nil && e.Version <= cur.version {
		return false
	}
	if cur == nil && e.Version <= o.snapshot {
		return false // older than a full state that did not list it: deleted since
	}
	if e.Reg == nil {
		c.putLocked(o, e.ID, &entry{version: e.Version, deletedAt: c.cfg.Clock.Now()})
		return true
	}
	c.putLocked(o, e.ID, &entry{version: e.Version, reg: e.Reg.Copy()})
	return true
}

// broadcastLocked queues an update of this node's.
func (c *Catalog) broadcastLocked(u update) {
	b, err := json.Marshal(u)
	if err != nil {
		c.cfg.Logger.Error("catalog: encoding an update", "error", err)
		return
	}
	msg := append([]byte{MsgUpdate}, b...)
	if len(msg) > maxBroadcast {
		c.cfg.Logger.Warn("catalog: instance too large to broadcast; it spreads by full-state exchange only", "instance", u.Entry.ID, "bytes", len(msg))
		return
	}
	c.queue.QueueBroadcast(broadcast{name: u.Origin + "/" + u.Entry.ID, msg: msg})
}

// announceLocked queues every local instance again, for a member that
// just joined and knows none of them.
func (c *Catalog) announceLocked() {
	for id, e := range c.owners[c.cfg.NodeID].entries {
		c.broadcastLocked(update{Origin: c.cfg.NodeID, Member: c.cfg.MemberName,
			Entry: wireEntry{ID: id, Version: e.version, Reg: e.reg}})
	}
}

// minRetransmitPool is the smallest pool size the retransmit limit is
// figured for: memberlist's ⌈log10(n+1)⌉ is 1 up to 9 members, which
// would halve the sends in a small pool. Counting small pools as 10 keeps
// every pool under 100 at the same sends per change (16 by default; see
// DefaultRetransmitMult), which costs little there.
const minRetransmitPool = 10

// numMembers is the pool's size for the queue's retransmit limit. It is
// kept in an atomic: the queue calls it under its own lock, which must not
// wait for c.mu (NotifyMsg queues under c.mu).
func (c *Catalog) numMembers() int {
	return max(int(c.alive.Load()), minRetransmitPool)
}

// setMemberLocked records a member's liveness and the pool's size.
func (c *Catalog) setMemberLocked(name string, alive bool) {
	c.members[name] = alive
	n := 0
	for _, a := range c.members {
		if a {
			n++
		}
	}
	c.alive.Store(int64(n))
}

// broadcast is one queued update; a newer update of the same instance
// replaces it in the queue.
type broadcast struct {
	name string
	msg  []byte
}

func (b broadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(broadcast)
	return ok && o.name == b.name
}
func (b broadcast) Name() string    { return b.name }
func (b broadcast) Message() []byte { return b.msg }
func (b broadcast) Finished()       {}

type events Catalog

// NotifyJoin brings a returning node's instances back into service and
// announces this node's instances to the newcomer.
func (ev *events) NotifyJoin(n *memberlist.Node) {
	c := (*Catalog)(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setMemberLocked(n.Name, true)
	if n.Name == c.cfg.MemberName {
		return
	}
	delete(c.departed, n.Name)
	changed := false
	for _, o := range c.owners {
		if o.member == n.Name && !o.leftAt.IsZero() {
			o.leftAt = time.Time{}
			changed = true
		}
	}
	c.announceLocked()
	if changed {
		c.notifyLocked()
	}
}

// NotifyLeave takes a node's instances out of service; they are removed
// after the grace unless it comes back.
func (ev *events) NotifyLeave(n *memberlist.Node) {
	c := (*Catalog)(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setMemberLocked(n.Name, false)
	if n.Name == c.cfg.MemberName {
		return
	}
	now := c.cfg.Clock.Now()
	changed := false
	for _, o := range c.owners {
		if o.member == n.Name && o.leftAt.IsZero() {
			o.leftAt = now
			changed = true
		}
	}
	if changed {
		c.notifyLocked()
	}
}

// NotifyUpdate is not used by the catalog.
func (ev *events) NotifyUpdate(n *memberlist.Node) {}

func shuffle(s []structs.ServiceRegistration) {
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}
