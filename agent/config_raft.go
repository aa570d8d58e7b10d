package agent

import (
	"fmt"
	"time"
)

// Raft snapshots and log truncation: the server block's
// raft_snapshot_threshold, raft_snapshot_interval and raft_trailing_logs,
// as Nomad's. Zero (unset) keeps the server's defaults.

func (c *Config) mergeRaftSnapshots(s *fileServer) error {
	if s == nil {
		return nil
	}
	if v := s.RaftSnapshotThreshold; v != nil {
		if *v < 0 {
			return fmt.Errorf("server.raft_snapshot_threshold = %d: want a positive number of log entries", *v)
		}
		c.Server.RaftSnapshotThreshold = uint64(*v)
	}
	if v := s.RaftTrailingLogs; v != nil {
		if *v < 0 {
			return fmt.Errorf("server.raft_trailing_logs = %d: want a positive number of log entries", *v)
		}
		c.Server.RaftTrailingLogs = uint64(*v)
	}
	if v := s.RaftSnapshotInterval; v != nil {
		d, err := parseDuration("server.raft_snapshot_interval", *v)
		if err != nil {
			return err
		}
		if d > 0 && d < time.Second {
			return fmt.Errorf("server.raft_snapshot_interval = %q: want at least 1s", *v)
		}
		c.Server.RaftSnapshotInterval = d
	}
	return nil
}
