// Package serversclient lets a client reach the servers over internal RPC:
// it implements client.Servers (RegisterNode, Heartbeat, NodeAllocations,
// UpdateAllocations) by calling "Endpoints.<Method>" on one server, which
// forwards to the leader as needed. When a server cannot be reached the
// call moves on to the next one; every one of these calls is safe to repeat.
package serversclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/structs"
)

// Servers calls a list of servers, sticking to one while it answers.
type Servers struct {
	pool *rpc.Pool

	mu      sync.Mutex
	addrs   []string
	current int
	// known is closed once the list holds a server; calls wait for it at
	// most wait.
	known     chan struct{}
	knownOnce sync.Once
	wait      time.Duration
}

// New returns a client of the servers at addrs (host:port of their RPC
// port). Close releases its connections.
func New(addrs []string) (*Servers, error) {
	if len(addrs) == 0 {
		return nil, errors.New("serversclient: no server addresses")
	}
	s := NewDiscovered()
	s.SetServers(addrs)
	return s, nil
}

// NewDiscovered returns a client whose servers are not known yet: calls
// fail with ErrNoServers until SetServers names some (gossip discovery).
func NewDiscovered() *Servers {
	return &Servers{pool: rpc.NewPool(), known: make(chan struct{}), wait: discoveryWait}
}

// discoveryWait is how long a call waits for a first server before it
// fails with ErrNoServers: a client starts a moment before gossip names
// the servers.
const discoveryWait = 5 * time.Second

// ErrNoServers is returned by calls made before any server is known.
var ErrNoServers = errors.New("no servers known yet")

// SetServers replaces the server list (for example from gossip). The
// server in use stays in use while it is listed, so a change elsewhere in
// the cluster does not move every client; an empty list is ignored (the
// last known servers are the best guess).
func (s *Servers) SetServers(addrs []string) {
	if len(addrs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	using := ""
	if s.current < len(s.addrs) {
		using = s.addrs[s.current]
	}
	s.addrs = append([]string(nil), addrs...)
	s.knownOnce.Do(func() { close(s.known) })
	s.current = 0
	for i, a := range s.addrs {
		if a == using {
			s.current = i
		}
	}
}

// List returns the servers in the order they are tried, the one in use first.
func (s *Servers) List() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.addrs))
	for i := range s.addrs {
		out = append(out, s.addrs[(s.current+i)%len(s.addrs)])
	}
	return out
}

// Close closes the connections.
func (s *Servers) Close() error { return s.pool.Close() }

// RegisterNode creates or updates the node and returns the heartbeat TTL.
func (s *Servers) RegisterNode(ctx context.Context, node *structs.Node) (time.Duration, error) {
	args := &structs.NodeRegisterArgs{Node: node}
	if node != nil {
		args.SecretID = node.SecretID
	}
	var reply structs.HeartbeatTTLReply
	err := s.call(ctx, "Endpoints.RegisterNode", args, &reply)
	return reply.TTL, err
}

// Heartbeat renews the node's liveness and returns the next TTL.
func (s *Servers) Heartbeat(ctx context.Context, nodeID, status string) (time.Duration, error) {
	var reply structs.HeartbeatTTLReply
	err := s.call(ctx, "Endpoints.Heartbeat", &structs.NodeHeartbeatArgs{NodeID: nodeID, Status: status}, &reply)
	return reply.TTL, err
}

// NodeAllocations blocks until the node's allocations change past minIndex
// (or wait passes) and returns them with the index to pass next time.
func (s *Servers) NodeAllocations(ctx context.Context, nodeID string, minIndex uint64, wait time.Duration) ([]*structs.Allocation, uint64, error) {
	var reply structs.NodeAllocationsReply
	err := s.call(ctx, "Endpoints.NodeAllocations", &structs.NodeAllocationsArgs{NodeID: nodeID, MinIndex: minIndex, Wait: wait}, &reply)
	return reply.Allocs, reply.Index, err
}

// UpdateAllocations reports client status and task states.
func (s *Servers) UpdateAllocations(ctx context.Context, allocs []*structs.Allocation) error {
	return s.call(ctx, "Endpoints.UpdateAllocations", allocs, nil)
}

// call tries each server once, starting with the one that answered last.
// An answer of the server's own (an error of the request, or "no leader")
// is returned as is: only unreachable servers are skipped.
func (s *Servers) call(ctx context.Context, method string, args, reply any) error {
	t := time.NewTimer(s.wait)
	select {
	case <-s.known:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	s.mu.Lock()
	addrs, start := s.addrs, s.current
	s.mu.Unlock()
	if len(addrs) == 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", method, ErrNoServers)
	}
	var errs []error
	for i := range addrs {
		n := (start + i) % len(addrs)
		err := s.pool.Call(ctx, addrs[n], method, args, reply)
		var remote *rpc.RemoteError
		if err == nil || errors.As(err, &remote) || ctx.Err() != nil {
			s.use(addrs[n])
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addrs[n], err))
	}
	return fmt.Errorf("no server answered %s: %w", method, errors.Join(errs...))
}

// use makes addr the server tried first, if it is still listed.
func (s *Servers) use(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.addrs {
		if a == addr {
			s.current = i
		}
	}
}
