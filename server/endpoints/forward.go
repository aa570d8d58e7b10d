package endpoints

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/structs"
)

// Any server takes any request. Writes, and reads that do not allow stale
// answers, run on the leader: a follower sends the endpoint call itself
// ("Forwarded.<Method>", see rpc.go) to the leader over RPC and passes its
// answer back. Stale reads are answered from the local state store.

// defaultLeaderWait is how long a request waits for a leader to be elected
// before answering "no cluster leader", as Nomad's.
const defaultLeaderWait = 5 * time.Second

// leaderPoll is how often a request waiting for a leader looks again.
const leaderPoll = 50 * time.Millisecond

// forwardedPrefix names the RPC methods of calls forwarded by a server.
const forwardedPrefix = "Forwarded."

type forwardedKey struct{}

// withForwarded marks ctx as carrying a request another server forwarded
// here, so it is never sent on again: two servers that each think the
// other leads must not pass a request back and forth.
func withForwarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, forwardedKey{}, true)
}

func isForwarded(ctx context.Context) bool {
	v, _ := ctx.Value(forwardedKey{}).(bool)
	return v
}

// forward sends the call to the leader when this server must not answer it
// itself, and reports whether it did (reply and err are then the
// leader's). stale says the request may be answered from local state.
func (e *Endpoints) forward(ctx context.Context, method string, stale bool, args, reply any) (bool, error) {
	if e.d.Forward == nil || stale || e.d.IsLeader() {
		return false, nil
	}
	if isForwarded(ctx) {
		return true, fmt.Errorf("%w: a request forwarded to this server found it is no longer the leader", structs.ErrNoLeader)
	}
	wait := e.d.LeaderWait
	if wait <= 0 {
		wait = defaultLeaderWait
	}
	deadline := time.Now().Add(wait)
	for {
		if e.d.IsLeader() {
			return false, nil
		}
		if leader := e.d.Leader(); leader != "" {
			err := e.d.Forward(ctx, leader, forwardedPrefix+method, args, reply)
			// "No leader" from the other side means it was not applied
			// there (it stepped down), and a leader that cannot be reached
			// (it just died) never got it: either way, asking the next
			// leader is safe.
			retry := errors.Is(err, structs.ErrNoLeader) || errors.Is(err, rpc.ErrNotSent)
			if !retry || time.Now().After(deadline) {
				return true, err
			}
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("%w: none was elected within %s", structs.ErrNoLeader, wait)
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(leaderPoll):
		}
	}
}

// ReadArgs are the arguments of a forwarded read: its options and the ID
// (or, for NodeAllocations, the node) it is about.
type ReadArgs struct {
	Query *structs.QueryOptions
	ID    string
	// All asks JobAllocations for every version's allocations.
	All bool
}

// ReadReply is the answer of a forwarded read.
type ReadReply[T any] struct {
	Value T
	Meta  structs.QueryMeta
}

// forwardRead is forward for a list or get endpoint.
func forwardRead[T any](ctx context.Context, e *Endpoints, method string, args ReadArgs) (out T, meta structs.QueryMeta, forwarded bool, err error) {
	stale := args.Query != nil && args.Query.AllowStale
	var reply ReadReply[T]
	forwarded, err = e.forward(ctx, method, stale, &args, &reply)
	return reply.Value, reply.Meta, forwarded, err
}
