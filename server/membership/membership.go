// Package membership is the gossip pool the servers of one region share
// (hashicorp/memberlist). It tells each server who the other servers are,
// where their Raft port is and whether they are alive, failed or gone; the
// server package turns that into Raft bootstrapping and peer changes.
//
// memberlist forgets a dead node after a while and knows no "left by force",
// so the pool keeps its own table of members with serf's statuses (alive,
// failed, left) and the time each entered its status, and it reconnects to
// failed members so that a healed partition merges again.
package membership

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/internal/logging"
)

// Status of a member, with serf's names.
type Status string

const (
	StatusAlive  Status = "alive"
	StatusFailed Status = "failed"
	StatusLeft   Status = "left"
)

// Member is one server as this pool sees it.
type Member struct {
	Name   string
	Addr   net.IP
	Port   uint16
	Tags   map[string]string
	Status Status
	// Since is when this pool saw the member enter Status.
	Since time.Time
	// Protocol versions, for Nomad's member shape.
	PMin, PMax, PCur, DMin, DMax, DCur uint8
}

// Config of a pool.
type Config struct {
	// Name is unique in the pool; servers use "name.region".
	Name string
	// BindAddr and BindPort are where gossip listens (TCP and UDP). Port 0
	// picks a free port.
	BindAddr string
	BindPort int
	// AdvertiseAddr and AdvertisePort are what peers dial; empty and 0 mean
	// the bind address and port.
	AdvertiseAddr string
	AdvertisePort int
	// Tags are gossiped with this member (see ServerTags).
	Tags map[string]string
	// Accept decides whether a node may be a member, given its tags; nil
	// accepts everyone. Servers refuse other regions here.
	Accept func(name string, tags map[string]string) error
	// Local uses loopback timings (faster failure detection); tests and dev.
	Local bool
	// Delegates carries another component's gossip over this pool (the
	// client's service catalog); nil carries none. See Delegates.
	Delegates *Delegates
	// ReconnectInterval is how often the pool tries to reach one failed
	// member again. Zero means 10 seconds.
	ReconnectInterval time.Duration
	// ReapAfter is how long failed and left members stay listed. Zero means 24 hours.
	ReapAfter time.Duration
	// Now is the clock for Member.Since; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Pool is this server's membership in its region's gossip pool.
type Pool struct {
	cfg Config
	log *slog.Logger
	ml  *memberlist.Memberlist

	// broadcasts carries force-leave messages to the other members.
	broadcasts *memberlist.TransmitLimitedQueue

	mu      sync.Mutex
	tags    map[string]string
	members map[string]*Member
	// leaving holds members that announced their leave: memberlist reports
	// a leave and a failure alike, this tells them apart.
	leaving map[string]bool

	changes  chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New starts gossiping. The pool holds only this member until Join.
func New(cfg Config) (*Pool, error) {
	if cfg.Logger == nil {
		cfg.Logger = logging.Discard()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReconnectInterval <= 0 {
		cfg.ReconnectInterval = 10 * time.Second
	}
	if cfg.ReapAfter <= 0 {
		cfg.ReapAfter = 24 * time.Hour
	}
	p := &Pool{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "membership"),
		tags:    maps.Clone(cfg.Tags),
		members: map[string]*Member{},
		leaving: map[string]bool{},
		changes: make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	if _, err := encodeTags(p.tags, memberlist.MetaMaxSize); err != nil {
		return nil, err
	}

	mc := memberlist.DefaultLANConfig()
	if cfg.Local {
		mc = memberlist.DefaultLocalConfig()
	}
	mc.Name = cfg.Name
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.BindPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.AdvertisePort
	if cfg.AdvertisePort == 0 {
		// memberlist advertises the bound port when this is 0 and the
		// bind port was chosen by the OS; otherwise it is the bind port.
		mc.AdvertisePort = cfg.BindPort
	}
	// A server that comes back on a new address (a rescheduled container)
	// may take its old name once the old entry has been dead this long.
	mc.DeadNodeReclaimTime = 30 * time.Second
	mc.Logger = logging.HCLog(cfg.Logger, "memberlist").StandardLogger(nil)
	d := &delegate{p: p}
	mc.Delegate = d
	mc.Events = d
	mc.Alive = d
	mc.Merge = d
	mc.Conflict = d

	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)), err)
	}
	p.ml = ml
	p.broadcasts = &memberlist.TransmitLimitedQueue{NumNodes: ml.NumMembers, RetransmitMult: mc.RetransmitMult}

	p.wg.Add(1)
	go p.maintain()
	return p, nil
}

// LocalName is this member's name.
func (p *Pool) LocalName() string { return p.cfg.Name }

// Addr is the address ("ip:port") peers join this member on.
func (p *Pool) Addr() string {
	n := p.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Changes receives a value whenever a member joins, fails, leaves or
// changes its tags. Several changes may be folded into one value.
func (p *Pool) Changes() <-chan struct{} { return p.changes }

func (p *Pool) notify() {
	select {
	case p.changes <- struct{}{}:
	default:
	}
}

// Members lists every known member (this one included), sorted by name.
// The result is a copy.
func (p *Pool) Members() []Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Member, 0, len(p.members))
	for _, m := range p.members {
		c := *m
		c.Tags = maps.Clone(m.Tags)
		c.Addr = slices.Clone(m.Addr)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// SetTags replaces this member's tags and gossips them.
func (p *Pool) SetTags(tags map[string]string) error {
	if _, err := encodeTags(tags, memberlist.MetaMaxSize); err != nil {
		return err
	}
	p.mu.Lock()
	p.tags = maps.Clone(tags)
	p.mu.Unlock()
	return p.ml.UpdateNode(10 * time.Second)
}

// Join contacts the given addresses ("host:port") and merges their pools
// with this one. It returns how many it reached; the error says why the
// others failed, and is nil when one was reached.
func (p *Pool) Join(addrs []string) (int, error) {
	n, err := p.ml.Join(addrs)
	if n > 0 {
		if err != nil {
			p.log.Warn("join reached only some addresses", "joined", n, "error", err)
		}
		return n, nil
	}
	if err == nil {
		err = errors.New("no address answered")
	}
	return 0, fmt.Errorf("membership: join %v: %w", addrs, err)
}

// ForceLeave marks a failed member as left, here and, by gossip, on the
// other members; with prune it also drops the member from the list. It is
// an error for a member that is alive: that one would only come back.
func (p *Pool) ForceLeave(name string, prune bool) error {
	if _, err := p.applyForceLeave(name, prune); err != nil {
		return err
	}
	msg := forceLeaveMsg{Name: name, Prune: prune}
	p.broadcasts.QueueBroadcast(msg.broadcast())
	return nil
}

// ErrUnknownMember is returned for a member name the pool does not know.
var ErrUnknownMember = errors.New("no such member")

// ErrMemberAlive is returned when force-leave names a member that is alive.
var ErrMemberAlive = errors.New("member is alive")

// applyForceLeave reports whether it changed anything, so a message that
// went round the pool once is not passed on forever.
func (p *Pool) applyForceLeave(name string, prune bool) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.members[name]
	if !ok {
		return false, fmt.Errorf("%w %q", ErrUnknownMember, name)
	}
	if m.Status == StatusAlive {
		return false, fmt.Errorf("%w: %q answers gossip; force-leave is for failed members", ErrMemberAlive, name)
	}
	switch {
	case prune:
		delete(p.members, name)
		delete(p.leaving, name)
	case m.Status != StatusLeft:
		m.Status = StatusLeft
		m.Since = p.cfg.Now()
	default:
		return false, nil
	}
	p.notify()
	return true, nil
}

// Leave tells the other members that this one is going away on purpose,
// waiting at most timeout for the message to go out. Like serf, it first
// tells each live member directly, so they list it as left, not failed.
func (p *Pool) Leave(timeout time.Duration) error {
	intent := append([]byte{msgLeaveIntent}, []byte(p.cfg.Name)...)
	p.noteLeaving(p.cfg.Name)
	for _, n := range p.ml.Members() {
		if n.Name == p.cfg.Name {
			continue
		}
		if err := p.ml.SendReliable(n, intent); err != nil {
			p.log.Warn("could not announce the leave to a member; it will see a failure instead", "member", n.Name, "error", err)
		}
	}
	return p.ml.Leave(timeout)
}

// noteLeaving records a leave announcement; a member already failed becomes left.
func (p *Pool) noteLeaving(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.leaving[name] = true
	if m, ok := p.members[name]; ok && m.Status == StatusFailed {
		m.Status = StatusLeft
		m.Since = p.cfg.Now()
		p.notify()
	}
}

// Shutdown stops gossiping without a goodbye: the others see this member fail.
func (p *Pool) Shutdown() error {
	p.stopOnce.Do(func() { close(p.stop) })
	err := p.ml.Shutdown()
	p.wg.Wait()
	return err
}

// maintain reconnects to failed members and forgets old ones.
func (p *Pool) maintain() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.ReconnectInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.reap()
		p.reconnect()
	}
}

// reap drops failed and left members after ReapAfter.
func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	for name, m := range p.members {
		if m.Status != StatusAlive && now.Sub(m.Since) > p.cfg.ReapAfter {
			delete(p.members, name)
			delete(p.leaving, name)
			p.notify()
		}
	}
}

// reconnect tries one failed member at random, as serf does: both sides of
// a healed partition have given up probing each other, so without this they
// would stay apart.
func (p *Pool) reconnect() {
	p.mu.Lock()
	var failed []string
	for _, m := range p.members {
		if m.Status == StatusFailed {
			failed = append(failed, net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port))))
		}
	}
	p.mu.Unlock()
	if len(failed) == 0 {
		return
	}
	addr := failed[rand.IntN(len(failed))]
	if _, err := p.ml.Join([]string{addr}); err != nil {
		p.log.Debug("reconnect to failed member", "addr", addr, "error", err)
	}
}

// record updates the table from a memberlist event.
func (p *Pool) record(n *memberlist.Node, status Status) {
	tags, err := decodeTags(n.Meta)
	if err != nil {
		p.log.Warn("ignoring member with bad tags", "member", n.Name, "error", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if status == StatusAlive {
		delete(p.leaving, n.Name)
	} else if p.leaving[n.Name] {
		status = StatusLeft
	}
	m, ok := p.members[n.Name]
	if !ok {
		m = &Member{Name: n.Name}
		p.members[n.Name] = m
	}
	if !ok || m.Status != status {
		m.Status = status
		m.Since = p.cfg.Now()
	}
	m.Addr = slices.Clone(n.Addr)
	m.Port = n.Port
	m.Tags = tags
	m.PMin, m.PMax, m.PCur, m.DMin, m.DMax, m.DCur = n.PMin, n.PMax, n.PCur, n.DMin, n.DMax, n.DCur
	p.notify()
}
