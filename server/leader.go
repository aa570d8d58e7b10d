package server

import (
	"context"
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
				if err := s.establishLeadership(); err != nil {
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
	if err := s.raft.Barrier(time.Minute).Error(); err != nil {
		return err
	}
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
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

// revokeLeadership stops everything establishLeadership started.
func (s *Server) revokeLeadership() {
	s.leaderMu.Lock()
	cancel := s.leaderCancel
	s.leaderCancel = nil
	s.leaderMu.Unlock()
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
