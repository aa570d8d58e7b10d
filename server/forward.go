package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/structs"
)

// applyTimeout bounds how long a write waits to be enqueued into Raft.
const applyTimeout = 30 * time.Second

// apply commits one log entry and returns its index. It returns only once
// the entry is committed (stored by a quorum, each of which fsyncs it in
// raft-boltdb) and applied here, so nothing is acknowledged that a crash
// could lose.
//
// Its errors say what the caller may conclude: ErrNoLeader means the entry
// was not written and may be retried elsewhere; ErrOutcomeUnknown means it
// may have been (leadership was lost while it was in flight).
func (s *Server) apply(t fsm.MessageType, req any) (uint64, error) {
	return s.applyWith(s.applier.foreground, t, req)
}

// applyBackground is apply for writes nobody waits on directly (the
// scheduler's evaluation updates): they may wait briefly to be committed
// together with the next foreground write (see applier).
func (s *Server) applyBackground(t fsm.MessageType, req any) (uint64, error) {
	return s.applyWith(s.applier.background, t, req)
}

func (s *Server) applyWith(submit func([]byte) raft.ApplyFuture, t fsm.MessageType, req any) (uint64, error) {
	if s.raft.State() != raft.Leader {
		return 0, fmt.Errorf("%w: this server is not the leader", structs.ErrNoLeader)
	}
	buf, err := fsm.Encode(t, req)
	if err != nil {
		return 0, err
	}
	return s.applyResult(t, submit(buf))
}

// applyResult waits for an apply to commit and says what became of it:
// refused before it entered the log (no leader), caught by a leadership
// change (outcome unknown), or applied, with the FSM's own error if any.
// raft never answers a future still queued when it shuts down, so the
// wait also ends with the server's shutdown, as an unknown outcome.
func (s *Server) applyResult(t fsm.MessageType, f raft.ApplyFuture) (uint64, error) {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var err error
	select {
	case err = <-done:
	case <-s.shutdownCh:
		return 0, fmt.Errorf("%w: the server shut down while committing %s; it may or may not have been applied", structs.ErrOutcomeUnknown, t)
	}
	if err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
			// Refused before it entered the log.
			return 0, fmt.Errorf("%w: this server is not the leader (%v)", structs.ErrNoLeader, err)
		case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown):
			return 0, fmt.Errorf("%w: leadership changed while committing %s (%v); it may or may not have been applied", structs.ErrOutcomeUnknown, t, err)
		}
		return 0, fmt.Errorf("raft apply: %w", err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return 0, err
	}
	return f.Index(), nil
}

// forwardRPC calls method on the server at addr; the endpoints use it to
// send requests to the leader.
func (s *Server) forwardRPC(ctx context.Context, addr, method string, args, reply any) error {
	return s.rpcPool.Call(ctx, addr, method, args, reply)
}

// lastContact is how long ago this server last heard from the leader; 0 on
// the leader itself.
func (s *Server) lastContact() time.Duration {
	if s.raft == nil || s.raft.State() == raft.Leader {
		return 0
	}
	last := s.raft.LastContact()
	if last.IsZero() {
		return 0
	}
	return time.Since(last)
}
