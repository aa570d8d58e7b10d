package proxy

import (
	"slices"
	"sync"

	"github.com/drover-project/drover/structs"
)

// balancer picks an instance for each connection or request.
type balancer struct {
	leastConn bool

	mu     sync.Mutex
	next   int            // round robin position
	active map[string]int // backend address → connections or requests in flight
}

func newBalancer(algorithm string) *balancer {
	return &balancer{leastConn: algorithm == structs.IngressLeastConn, active: map[string]int{}}
}

// pick chooses among backends (sorted, so that the turn survives the
// catalog's shuffling), skipping those in tried, and counts the choice as
// in flight until done is called. round_robin takes the backends in turn;
// least_conn takes the one with the fewest in flight, in turn among equals.
func (b *balancer) pick(backends []string, tried []string) (string, bool) {
	var buf [16]string
	candidates := buf[:0]
	for _, addr := range backends {
		if !slices.Contains(tried, addr) {
			candidates = append(candidates, addr)
		}
	}
	if len(candidates) == 0 {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	start := b.next % len(candidates)
	b.next++
	chosen := candidates[start]
	if b.leastConn {
		for i := range candidates {
			addr := candidates[(start+i)%len(candidates)]
			if b.active[addr] < b.active[chosen] {
				chosen = addr
			}
		}
	}
	b.active[chosen]++
	return chosen, true
}

// done ends one connection or request to addr.
func (b *balancer) done(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active[addr]--; b.active[addr] <= 0 {
		delete(b.active, addr)
	}
}
