// Package nodes tracks client liveness on the leader. A client that does not
// renew its heartbeat within its TTL plus a grace period is reported to
// onExpire, which marks it down; gossip may hint earlier, but only this
// timer decides.
package nodes

import (
	"log/slog"
	"sync"
	"time"
)

// Heartbeats holds one timer per live node. It runs only on the leader.
type Heartbeats struct {
	ttl      time.Duration
	grace    time.Duration
	onExpire func(nodeID string)
	log      *slog.Logger

	mu      sync.Mutex
	enabled bool
	timers  map[string]*time.Timer
}

// NewHeartbeats returns a disabled tracker. Clients are told to beat every
// ttl; they are declared down after ttl plus an equal grace period, so one
// lost heartbeat is not enough.
func NewHeartbeats(ttl time.Duration, onExpire func(nodeID string), log *slog.Logger) *Heartbeats {
	return &Heartbeats{ttl: ttl, grace: ttl, onExpire: onExpire, log: log, timers: map[string]*time.Timer{}}
}

// Enable starts tracking on a new leader. Every known node gets a fresh
// timer, so nodes are not marked down in bulk just because the leader
// changed.
func (h *Heartbeats) Enable(nodeIDs []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.enabled = true
	for _, id := range nodeIDs {
		h.resetLocked(id)
	}
	return nil
}

// Disable stops every timer when leadership is lost.
func (h *Heartbeats) Disable() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.enabled = false
	for id, t := range h.timers {
		t.Stop()
		delete(h.timers, id)
	}
}

// Reset renews a node's heartbeat and returns the TTL the client should use.
func (h *Heartbeats) Reset(nodeID string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.enabled {
		h.resetLocked(nodeID)
	}
	return h.ttl
}

func (h *Heartbeats) resetLocked(nodeID string) {
	if t, ok := h.timers[nodeID]; ok {
		t.Reset(h.ttl + h.grace)
		return
	}
	h.timers[nodeID] = time.AfterFunc(h.ttl+h.grace, func() { h.expire(nodeID) })
}

// Remove stops tracking a node (e.g. one already marked down).
func (h *Heartbeats) Remove(nodeID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.timers[nodeID]; ok {
		t.Stop()
		delete(h.timers, nodeID)
	}
}

func (h *Heartbeats) expire(nodeID string) {
	h.mu.Lock()
	_, tracked := h.timers[nodeID]
	delete(h.timers, nodeID)
	enabled := h.enabled
	h.mu.Unlock()
	if !enabled || !tracked {
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
