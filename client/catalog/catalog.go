// Package catalog is the local, gossip-fed service catalog of a node.
//
// Each node owns the service instances it runs: only it registers them,
// changes their health and deregisters them. Its changes spread to every
// member of the region's memberlist pool as broadcasts (which every node
// that learns something new passes on), and the full-state exchange that
// memberlist runs between pairs of nodes repairs whatever a broadcast
// missed. So every node holds the whole catalog and answers DNS and load
// balancing from memory, without asking the servers.
//
// Entries are versioned per owner: a counter that only grows, so the last
// change an owner made wins whatever order messages arrive in. Instances of
// a node that left the pool stop receiving traffic at once and are removed
// after a grace period; a message from one node about another node's
// instance is ignored.
package catalog

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/structs"
)

// Defaults of Config.
const (
	DefaultLeaveGrace   = 30 * time.Second
	DefaultTombstoneTTL = 5 * time.Minute
	DefaultReapInterval = time.Second
	// DefaultRetransmitMult is twice memberlist's LAN setting. Every node
	// that learns a change passes it on RetransmitMult × ⌈log10(n+1)⌉
	// times (L) to random members, so in a pool of n the number of copies
	// a member receives is close to a Poisson draw of mean L·n/(n-1): it
	// gets none with probability about e^-L. With memberlist's 4 (L = 8
	// below 100 members) that is 1 in 3,000 (TestBroadcastsReachEveryMember
	// measured 1 in 2,400), so in a pool of 30 about one change in 100
	// missed some member, which then held the stale instance until its
	// next full-state exchange, up to 30 s later. With 8 (L = 16) it is 1
	// in 10 million per member and change, for twice the gossip traffic:
	// a change costs n·L messages of a few hundred bytes, several to a
	// packet, spread over a few seconds.
	DefaultRetransmitMult = 8
)

// Config of a catalog.
type Config struct {
	// NodeID is this node's ID: the owner of the instances registered here.
	NodeID string
	// MemberName is this node's name in the memberlist pool (NodeID when
	// empty). Other nodes tie this node's instances to its membership by it.
	MemberName string
	// Datacenter is given to instances registered without one.
	Datacenter string
	Logger     *slog.Logger
	Clock      clock.Clock

	// LeaveGrace is how long the instances of a node that left the pool
	// (or was declared dead) are kept, out of service, before removal; a
	// node that comes back within it keeps them.
	LeaveGrace time.Duration
	// TombstoneTTL is how long a deregistration is remembered, so that a
	// late message cannot bring the instance back.
	TombstoneTTL time.Duration
	// ReapInterval is how often expired entries are removed.
	ReapInterval time.Duration
	// RetransmitMult scales how many times each node sends a change it
	// learns (times ⌈log10(n+1)⌉ for a pool of n, counting n as at least
	// 10), as memberlist's own setting does; DefaultRetransmitMult when 0.
	RetransmitMult int
}

// Catalog is the node's view of every service instance in the region.
type Catalog struct {
	cfg   Config
	queue *memberlist.TransmitLimitedQueue

	// mu guards everything below; lookups (Healthy, All, Services) only
	// read, so they share it.
	mu sync.RWMutex
	// version is this node's counter; every local change takes the next one.
	version uint64
	// owners holds every node's instances, this node's included. Change
	// their entries only through putLocked, removeLocked and
	// removeOwnerLocked, which keep byService in step.
	owners map[string]*owner
	// byService indexes the live instances (not tombstones) of every owner
	// by service name, so that a lookup reads one service's instances
	// rather than the whole catalog. A name without instances has no key.
	byService map[string]map[instanceKey]indexed
	// departed remembers members whose instances expired, so that a late
	// message of theirs does not bring them back until they rejoin.
	departed map[string]time.Time
	// members is the pool as memberlist reports it (name → alive).
	members map[string]bool
	alive   atomic.Int64 // how many members are alive
	changed chan struct{}

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// owner is one node's instances, as last heard from it.
type owner struct {
	id     string // the node's ID, its key in Catalog.owners
	member string
	// snapshot is the version of the last full state applied: everything
	// the owner had not deleted by then was in it.
	snapshot uint64
	entries  map[string]*entry
	// leftAt is when the owner's member left the pool (zero while alive).
	leftAt time.Time
}

// entry is one instance; reg is nil for a tombstone.
type entry struct {
	version   uint64
	reg       *structs.ServiceRegistration
	deletedAt time.Time
}

// instanceKey names one instance of one owner in the index.
type instanceKey struct{ owner, id string }

// indexed is one live instance in the index. The owner is kept so that a
// lookup sees whether its node left the pool (leftAt changes in place).
type indexed struct {
	o   *owner
	reg *structs.ServiceRegistration
}

// New returns a catalog and starts its expiry loop; Close stops it.
func New(cfg Config) (*Catalog, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("catalog: NodeID is required")
	}
	if cfg.MemberName == "" {
		cfg.MemberName = cfg.NodeID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.LeaveGrace <= 0 {
		cfg.LeaveGrace = DefaultLeaveGrace
	}
	if cfg.TombstoneTTL <= 0 {
		cfg.TombstoneTTL = DefaultTombstoneTTL
	}
	if cfg.ReapInterval <= 0 {
		cfg.ReapInterval = DefaultReapInterval
	}
	if cfg.RetransmitMult <= 0 {
		cfg.RetransmitMult = DefaultRetransmitMult
	}
	c := &Catalog{
		cfg: cfg,
		// The counter starts at the clock, so a restarted node's changes
		// are newer than anything its previous run said.
		version:   uint64(cfg.Clock.Now().UnixNano()),
		owners:    map[string]*owner{},
		byService: map[string]map[instanceKey]indexed{},
		departed:  map[string]time.Time{},
		members:   map[string]bool{},
		changed:   make(chan struct{}),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	c.owners[cfg.NodeID] = &owner{id: cfg.NodeID, member: cfg.MemberName, entries: map[string]*entry{}}
	c.queue = &memberlist.TransmitLimitedQueue{NumNodes: c.numMembers, RetransmitMult: cfg.RetransmitMult}
	go c.reapLoop()
	return c, nil
}

// Close stops the expiry loop.
func (c *Catalog) Close() {
	c.closeOnce.Do(func() { close(c.stop) })
	<-c.done
}

// Register adds or replaces a local instance and spreads it. NodeID is set
// to this node; Datacenter defaults to the node's; Health defaults to
// passing for an instance without checks and critical otherwise.
func (c *Catalog) Register(reg *structs.ServiceRegistration) error {
	if reg == nil || reg.ID == "" || reg.ServiceName == "" {
		return errors.New("catalog: an instance needs an ID and a ServiceName")
	}
	reg = reg.Copy()
	reg.NodeID = c.cfg.NodeID
	if reg.Datacenter == "" {
		reg.Datacenter = c.cfg.Datacenter
	}
	if reg.Health == "" {
		reg.Health = structs.HealthPassing
		if len(reg.Checks) > 0 {
			reg.Health = structs.HealthCritical
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocalLocked(reg.ID, reg)
	return nil
}

// Deregister removes a local instance and spreads its removal. Removing an
// unknown instance does nothing.
func (c *Catalog) Deregister(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.owners[c.cfg.NodeID].entries[id]; e == nil || e.reg == nil {
		return
	}
	c.setLocalLocked(id, nil)
}

// SetHealth records a local instance's health and check statuses and
// spreads them when they changed.
func (c *Catalog) SetHealth(id string, healthy bool, checks []structs.ServiceCheckStatus) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.owners[c.cfg.NodeID].entries[id]
	if e == nil || e.reg == nil {
		return fmt.Errorf("catalog: no local instance %q", id)
	}
	health := structs.HealthCritical
	if healthy {
		health = structs.HealthPassing
	}
	if e.reg.Health == health && slices.Equal(e.reg.Checks, checks) {
		return nil
	}
	reg := e.reg.Copy()
	reg.Health = health
	reg.Checks = slices.Clone(checks)
	c.setLocalLocked(id, reg)
	return nil
}

// setLocalLocked stores a local change under the next version and queues
// its broadcast; reg nil deletes.
func (c *Catalog) setLocalLocked(id string, reg *structs.ServiceRegistration) {
	c.version++
	local := c.owners[c.cfg.NodeID]
	if reg == nil {
		c.removeLocked(local, id)
	} else {
		c.putLocked(local, id, &entry{version: c.version, reg: reg})
	}
	c.broadcastLocked(update{Origin: c.cfg.NodeID, Member: c.cfg.MemberName,
		Entry: wireEntry{ID: id, Version: c.version, Reg: reg}})
	c.notifyLocked()
}

// Healthy returns the healthy instances of a service, in random order:
// with tag when tag is not empty, in datacenter dc when dc is not empty.
// Instances of a node that left the pool are not healthy. It reads only
// the instances of that service.
func (c *Catalog) Healthy(name, tag, dc string) []structs.ServiceRegistration {
	c.mu.RLock()
	insts := c.byService[name]
	var out []structs.ServiceRegistration
	for _, in := range insts {
		r := in.reg
		if in.o.leftAt.IsZero() && r.Healthy() && (tag == "" || r.HasTag(tag)) && (dc == "" || r.Datacenter == dc) {
			if out == nil {
				out = make([]structs.ServiceRegistration, 0, len(insts))
			}
			out = append(out, *r.Copy())
		}
	}
	c.mu.RUnlock()
	shuffle(out)
	return out
}

// All returns every known instance of a service, healthy or not, sorted by ID.
func (c *Catalog) All(name string) []structs.ServiceRegistration {
	c.mu.RLock()
	insts := c.byService[name]
	var out []structs.ServiceRegistration
	if len(insts) > 0 {
		out = make([]structs.ServiceRegistration, 0, len(insts))
	}
	for _, in := range insts {
		out = append(out, *in.reg.Copy())
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Services returns the names of every service with at least one instance, sorted.
func (c *Catalog) Services() []string {
	c.mu.RLock()
	names := make([]string, 0, len(c.byService))
	for n := range c.byService {
		names = append(names, n)
	}
	c.mu.RUnlock()
	sort.Strings(names)
	return names
}

// putLocked stores an instance's entry (a tombstone when e.reg is nil) and
// moves it in the index.
func (c *Catalog) putLocked(o *owner, id string, e *entry) {
	if old := o.entries[id]; old != nil && old.reg != nil {
		c.unindexLocked(o.id, id, old.reg.ServiceName)
	}
	o.entries[id] = e
	if e.reg != nil {
		set := c.byService[e.reg.ServiceName]
		if set == nil {
			set = map[instanceKey]indexed{}
			c.byService[e.reg.ServiceName] = set
		}
		set[instanceKey{o.id, id}] = indexed{o: o, reg: e.reg}
	}
}

// removeLocked forgets an instance's entry, tombstone or not.
func (c *Catalog) removeLocked(o *owner, id string) {
	if old := o.entries[id]; old != nil && old.reg != nil {
		c.unindexLocked(o.id, id, old.reg.ServiceName)
	}
	delete(o.entries, id)
}

// removeOwnerLocked forgets a node and all its instances.
func (c *Catalog) removeOwnerLocked(o *owner) {
	for id, e := range o.entries {
		if e.reg != nil {
			c.unindexLocked(o.id, id, e.reg.ServiceName)
		}
	}
	delete(c.owners, o.id)
}

func (c *Catalog) unindexLocked(ownerID, id, service string) {
	set := c.byService[service]
	delete(set, instanceKey{ownerID, id})
	if len(set) == 0 {
		delete(c.byService, service)
	}
}

// Watch returns a channel that is closed at the next change of the catalog.
// Call it again after it fires for the change after that.
func (c *Catalog) Watch() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

func (c *Catalog) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// reapLoop removes, every ReapInterval, the instances of nodes gone for
// longer than the grace, and old tombstones.
func (c *Catalog) reapLoop() {
	defer close(c.done)
	for {
		t := c.cfg.Clock.NewTimer(c.cfg.ReapInterval)
		select {
		case <-c.stop:
			t.Stop()
			return
		case <-t.C():
		}
		c.reap(c.cfg.Clock.Now())
	}
}

func (c *Catalog) reap(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	for id, o := range c.owners {
		if !o.leftAt.IsZero() && now.Sub(o.leftAt) >= c.cfg.LeaveGrace {
			c.cfg.Logger.Info("catalog: removing the instances of a node that left", "node", id, "member", o.member, "instances", len(o.entries))
			c.removeOwnerLocked(o)
			c.departed[o.member] = now
			changed = true
			continue
		}
		for iid, e := range o.entries {
			if e.reg == nil && now.Sub(e.deletedAt) >= c.cfg.TombstoneTTL {
				c.removeLocked(o, iid)
			}
		}
	}
	for m, at := range c.departed {
		if now.Sub(at) >= c.cfg.TombstoneTTL {
			delete(c.departed, m)
		}
	}
	if changed {
		c.notifyLocked()
	}
}
