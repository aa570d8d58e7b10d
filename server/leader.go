package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/deploy"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/nodes"
	"github.com/drover-project/drover/server/worker"
	"github.com/drover-project/drover/structs"
)

// monitorLeadership starts the leader-only parts when this server becomes
// leader and stops them when it steps down.
func (s *Server) monitorLeadership() {
	defer s.wg.Done()
	for {
		select {
		case isLeader := <-s.leaderCh:
			if isLeader {
				switch err := s.establishLeadership(); {
				case err == nil:
				case errors.Is(err, errServerShutdown):
					s.revokeLeadership()
					return
				case errors.Is(err, errLostLeadership):
					s.log.Warn("lost leadership before it was established")
					s.revokeLeadership()
				default:
					s.log.Error("failed to establish leadership; stepping down", "error", err)
					s.revokeLeadership()
					s.handOverLeadership()
				}
			} else {
				s.revokeLeadership()
			}
		case <-s.shutdownCh:
			return
		}
	}
}

// establishLeadership waits until this server's state holds every committed
// entry, then rebuilds the broker from it and starts the leader's loops.
func (s *Server) establishLeadership() error {
	err := awaitBarrier(s.raft.Barrier(barrierTimeout), barrierTimeout, leadershipCheckInterval,
		s.shutdownCh, func() bool { return s.raft.State() == raft.Leader })
	if err != nil {
		return err
	}
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	// Shutdown closes shutdownCh before it takes leaderMu to revoke
	// leadership: checked under the lock, either Shutdown has not revoked
	// yet (and will stop what starts here) or we see the channel closed.
	select {
	case <-s.shutdownCh:
		return errServerShutdown
	default:
	}
	if s.leaderCancel != nil {
		return nil // already leading
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.leaderCancel = cancel

	s.broker.SetEnabled(true)
	s.blocked.SetEnabled(true)
	if err := s.restoreEvals(); err != nil {
		return err
	}

	// Plans are handed to raft in order and checked while the previous
	// ones commit (planapply.Applier.Pipeline).
	s.planner.Pipeline(s.submitPlan)
	s.leaderWG.Add(1)
	go func() {
		defer s.leaderWG.Done()
		s.planner.Run(ctx)
	}()
	for i := range s.cfg.NumSchedulers {
		w := worker.New(worker.Config{
			ID:      i,
			Broker:  s.broker,
			Blocked: s.blocked,
			State:   s.fsm.State,
			Planner: s.planner,
			Apply:   s.applyBackground,
			Logger:  s.cfg.Logger.With("component", "worker", "worker", i),
		})
		s.leaderWG.Add(1)
		go func() {
			defer s.leaderWG.Done()
			w.Run(ctx)
		}()
	}
	if err := s.heartbeats.Enable(s.readyNodeIDs()); err != nil {
		return err
	}
	// The drainer moves allocations off draining nodes (server/nodes).
	drainer := nodes.NewDrainer(nodes.DrainerConfig{State: s.fsm.State, Writer: s.endpoints,
		Logger: s.cfg.Logger.With("component", "drainer")})
	s.leaderWG.Add(1)
	go func() {
		defer s.leaderWG.Done()
		drainer.Run(ctx)
	}()
	s.leaderWG.Add(1)
	go func() {
		defer s.leaderWG.Done()
		s.runGC(ctx) // gc.go
	}()
	// The deployment watcher moves rollouts on (server/deploy).
	deployments := deploy.NewWatcher(deploy.Config{State: s.fsm.State, Apply: s.apply,
		Logger: s.cfg.Logger.With("component", "deployment_watcher")})
	s.leaderWG.Add(1)
	go func() {
		defer s.leaderWG.Done()
		deployments.Run(ctx)
	}()
	s.log.Info("cluster leadership acquired")
	return nil
}

// barrierTimeout bounds how long a new leader waits for its state to hold
// every committed entry; leadershipCheckInterval is how often it checks
// meanwhile that it still leads.
const (
	barrierTimeout          = time.Minute
	leadershipCheckInterval = 100 * time.Millisecond
)

var (
	errServerShutdown = errors.New("server is shutting down")
	errLostLeadership = errors.New("lost leadership while establishing it")
)

// awaitBarrier waits for a raft barrier future, but gives up when the
// server shuts down, when isLeader turns false (checked every check), or
// after timeout. raft.Barrier's own timeout bounds only the enqueueing: a
// barrier queued in raft's buffered apply channel just before raft shuts
// down is never answered, and waiting on it alone hung Shutdown.
func awaitBarrier(f raft.Future, timeout, check time.Duration, shutdown <-chan struct{}, isLeader func() bool) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }() // ends when raft answers, if ever
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(check)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("raft barrier: %w", err)
			}
			return nil
		case <-shutdown:
			return errServerShutdown
		case <-deadline.C:
			return fmt.Errorf("raft barrier: not applied within %s", timeout)
		case <-tick.C:
			if !isLeader() {
				return errLostLeadership
			}
		}
	}
}

// revokeLeadership stops everything establishLeadership started.
// It holds leaderMu until they have stopped, so a second caller (Shutdown
// while monitorLeadership steps down) returns only once they are gone, and
// Shutdown never stops raft under goroutines still waiting on it.
func (s *Server) revokeLeadership() {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	cancel := s.leaderCancel
	s.leaderCancel = nil
	if cancel == nil {
		return
	}
	cancel()
	s.broker.SetEnabled(false)
	s.blocked.SetEnabled(false)
	s.heartbeats.Disable()
	s.leaderWG.Wait()
	s.log.Info("cluster leadership lost")
}

// restoreEvals hands every unfinished evaluation in the state to the broker,
// so a new leader carries on where the old one stopped.
func (s *Server) restoreEvals() error {
	evals, err := s.fsm.State().Evals(nil)
	if err != nil {
		return err
	}
	for _, e := range evals {
		switch e.Status {
		case structs.EvalStatusPending:
			s.broker.Enqueue(e)
		case structs.EvalStatusBlocked:
			s.blocked.Block(e)
		}
	}
	return nil
}

func (s *Server) readyNodeIDs() []string {
	nodes, err := s.fsm.State().Nodes(nil)
	if err != nil {
		s.log.Error("list nodes for heartbeats", "error", err)
		return nil
	}
	var ids []string
	for _, n := range nodes {
		if n.Status != structs.NodeStatusDown {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

// nodeHeartbeatExpired marks a silent node down and asks the scheduler to
// reconsider its jobs.
func (s *Server) nodeHeartbeatExpired(nodeID string) {
	if err := s.endpoints.MarkNodeDown(nodeID); err != nil {
		s.log.Error("failed to mark node down", "node_id", nodeID, "error", err)
	}
}

// evalDeliveryFailed records an evaluation that no worker could finish.
func (s *Server) evalDeliveryFailed(e *structs.Evaluation) {
	e = e.Copy()
	e.Status = structs.EvalStatusFailed
	e.StatusDescription = "evaluation reached its delivery limit"
	e.ModifyTime = time.Now().UnixNano()
	if _, err := s.apply(fsm.EvalUpdate, &fsm.EvalUpdateRequest{Evals: []*structs.Evaluation{e}}); err != nil {
		s.log.Error("failed to record failed evaluation", "eval_id", e.ID, "error", err)
	}
}

// handOverLeadership asks raft to transfer leadership after a failed
// establishLeadership. It does not wait past Shutdown: raft never answers a
// transfer queued while it shuts down (a Barrier that failed because of the
// shutdown brings us here), and waiting would hang Shutdown for good.
func (s *Server) handOverLeadership() {
	if s.raft.State() != raft.Leader {
		return
	}
	f := s.raft.LeadershipTransfer()
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			s.log.Warn("leadership transfer failed", "error", err)
		}
	case <-s.shutdownCh:
	}
}

// submitPlan hands a write to raft now and returns a wait for its outcome,
// for the plan applier: writes submitted one after another commit in that
// order. The outcome is read as apply reads it (forward.go).
func (s *Server) submitPlan(t fsm.MessageType, req any) func() (uint64, error) {
	if s.raft.State() != raft.Leader {
		err := fmt.Errorf("%w: this server is not the leader", structs.ErrNoLeader)
		return func() (uint64, error) { return 0, err }
	}
	buf, err := fsm.Encode(t, req)
	if err != nil {
		return func() (uint64, error) { return 0, err }
	}
	f := s.applier.foreground(buf)
	return func() (uint64, error) { return s.applyResult(t, f) }
}
