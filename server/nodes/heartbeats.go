// Package nodes tracks client liveness on the leader. A client that does not
// renew its heartbeat within its TTL plus a grace period is reported to
// onExpire, which marks it down; gossip may hint earlier, but only this
// timer decides.
package nodes

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// HeartbeatPolicy says how long clients may stay silent. As Nomad's: the
// TTL handed to a client is max(MinTTL, nodes / MaxPerSecond), so the
// leader never takes more than MaxPerSecond beats a second however large
// the cluster grows, plus a little jitter so that nodes registered
// together do not beat together; a node is down once TTL + Grace pass
// without a beat (clients beat at half the TTL, so one lost beat is not
// enough).
type HeartbeatPolicy struct {
	// MinTTL is the shortest TTL (default 10s).
	MinTTL time.Duration
	// Grace is added to the TTL before a node is declared down (default 5s).
	Grace time.Duration
	// MaxPerSecond caps the heartbeats the leader receives (default 50).
	MaxPerSecond float64
	// Jitter returns the extra time added to a TTL; nil adds up to 5% at
	// random. Tests pass a function that returns 0.
	Jitter func(ttl time.Duration) time.Duration
	// Clock makes the expiry timers; nil is the system clock. Tests pass
	// a fake so that expiry does not depend on how busy the machine is.
	Clock Clock
}

// Clock makes one-shot timers that run a function, like time.AfterFunc.
type Clock interface {
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer made by a Clock.
type Timer interface {
	// Stop prevents the function from running; it reports whether it did.
	Stop() bool
}

type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Defaults of HeartbeatPolicy.
const (
	DefaultMinHeartbeatTTL        = 10 * time.Second
	DefaultHeartbeatGrace         = 5 * time.Second
	DefaultMaxHeartbeatsPerSecond = 50.0
)

func (p HeartbeatPolicy) withDefaults() HeartbeatPolicy {
	if p.MinTTL <= 0 {
		p.MinTTL = DefaultMinHeartbeatTTL
	}
	if p.Grace <= 0 {
		p.Grace = DefaultHeartbeatGrace
	}
	if p.MaxPerSecond <= 0 {
		p.MaxPerSecond = DefaultMaxHeartbeatsPerSecond
	}
	if p.Clock == nil {
		p.Clock = realClock{}
	}
	if p.Jitter == nil {
		p.Jitter = func(ttl time.Duration) time.Duration {
			if ttl < 20 {
				return 0
			}
			return rand.N(ttl / 20)
		}
	}
	return p
}

// TTL is the heartbeat TTL for a cluster of n nodes, before jitter.
func (p HeartbeatPolicy) TTL(n int) time.Duration {
	p = p.withDefaults()
	scaled := time.Duration(float64(n) / p.MaxPerSecond * float64(time.Second))
	return max(p.MinTTL, scaled)
}

// Heartbeats holds one timer per live node. It runs only on the leader.
type Heartbeats struct {
	policy   HeartbeatPolicy
	onExpire func(nodeID string)
	log      *slog.Logger

	mu      sync.Mutex
	enabled bool
	timers  map[string]*beatTimer
	// gen numbers every timer started, so that a timer that fired just as
	// its node beat (or was removed and added again) is told apart from
	// the node's current one and expires nothing.
	gen uint64
}

type beatTimer struct {
	timer Timer
	gen   uint64
}

// NewHeartbeats returns a disabled tracker with a fixed TTL: clients are
// handed ttl and are declared down after ttl plus an equal grace period.
func NewHeartbeats(ttl time.Duration, onExpire func(nodeID string), log *slog.Logger) *Heartbeats {
	noJitter := func(time.Duration) time.Duration { return 0 }
	return NewHeartbeatsWithPolicy(HeartbeatPolicy{MinTTL: ttl, Grace: ttl, Jitter: noJitter}, onExpire, log)
}

// NewHeartbeatsWithPolicy returns a disabled tracker whose TTL scales with
// the number of nodes it tracks (see HeartbeatPolicy).
func NewHeartbeatsWithPolicy(p HeartbeatPolicy, onExpire func(nodeID string), log *slog.Logger) *Heartbeats {
	return &Heartbeats{policy: p.withDefaults(), onExpire: onExpire, log: log, timers: map[string]*beatTimer{}}
}

// nextTTL is the TTL handed to a node now. Called with h.mu held.
func (h *Heartbeats) nextTTL() time.Duration {
	ttl := h.policy.TTL(len(h.timers))
	return ttl + h.policy.Jitter(ttl)
}

// Enable starts tracking on a new leader. Every known node gets a fresh
// timer of a whole TTL plus grace, so nodes are not marked down in bulk
// just because the leader changed: each has that long to find the new
// leader and beat.
func (h *Heartbeats) Enable(nodeIDs []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.enabled = true
	ttl := h.policy.TTL(len(nodeIDs))
	for _, id := range nodeIDs {
		h.resetLocked(id, ttl+h.policy.Jitter(ttl))
	}
	return nil
}

// Disable stops every timer when leadership is lost.
func (h *Heartbeats) Disable() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.enabled = false
	for id, t := range h.timers {
		t.timer.Stop()
		delete(h.timers, id)
	}
}

// Reset renews a node's heartbeat and returns the TTL the client should use.
func (h *Heartbeats) Reset(nodeID string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	ttl := h.nextTTL()
	if h.enabled {
		h.resetLocked(nodeID, ttl)
	}
	return ttl
}

// resetLocked replaces a node's timer by a new one. A fresh timer, rather
// than resetting the old one, because the old one may have fired already
// and be waiting for h.mu in expire: its generation, no longer the node's,
// tells expire that the node beat in time.
func (h *Heartbeats) resetLocked(nodeID string, ttl time.Duration) {
	if t, ok := h.timers[nodeID]; ok {
		t.timer.Stop()
	}
	h.gen++
	gen := h.gen
	h.timers[nodeID] = &beatTimer{gen: gen, timer: h.policy.Clock.AfterFunc(ttl+h.policy.Grace, func() { h.expire(nodeID, gen) })}
}

// Remove stops tracking a node (e.g. one already marked down).
func (h *Heartbeats) Remove(nodeID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.timers[nodeID]; ok {
		t.timer.Stop()
		delete(h.timers, nodeID)
	}
}

// expire runs when the timer of generation gen fires. It does nothing if
// the node has beaten (or was removed) since that timer started.
func (h *Heartbeats) expire(nodeID string, gen uint64) {
	h.mu.Lock()
	t, tracked := h.timers[nodeID]
	current := tracked && t.gen == gen && h.enabled
	if current {
		delete(h.timers, nodeID)
	}
	h.mu.Unlock()
	if !current {
		return
	}
	h.log.Warn("node heartbeat missed", "node_id", nodeID)
	h.onExpire(nodeID)
}

// Tracked is the number of nodes with a live timer.
func (h *Heartbeats) Tracked() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.timers)
}
