package server

import (
	"context"
	"time"

	"github.com/drover-project/drover/server/endpoints"
)

// gcInterval is how often the leader collects finished evaluations,
// allocations and jobs (Nomad's job_gc_interval).
const gcInterval = 5 * time.Minute

// runGC collects garbage every gcInterval with Nomad's default thresholds
// until ctx ends (leadership is lost).
func (s *Server) runGC(ctx context.Context) {
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.endpoints.CollectGarbage(endpoints.DefaultGCThresholds)
		if err != nil {
			s.log.Warn("garbage collection failed", "error", err)
			continue
		}
		if res != (endpoints.GCResult{}) {
			s.log.Info("garbage collected", "evals", res.Evals, "allocs", res.Allocs, "jobs", res.Jobs, "nodes", res.Nodes)
		}
	}
}
