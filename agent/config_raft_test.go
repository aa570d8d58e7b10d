package agent

import (
	"strings"
	"testing"
	"time"
)

func TestRaftSnapshotSettings(t *testing.T) {
	c := DefaultConfig()
	src := `server {
  enabled                 = true
  raft_snapshot_threshold = 100
  raft_snapshot_interval  = "30s"
  raft_trailing_logs      = 50
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if c.Server.RaftSnapshotThreshold != 100 || c.Server.RaftSnapshotInterval != 30*time.Second || c.Server.RaftTrailingLogs != 50 {
		t.Fatalf("server config: %+v", c.Server)
	}
}

func TestRaftSnapshotSettingsErrorsNameTheKey(t *testing.T) {
	for src, want := range map[string]string{
		`server { raft_snapshot_interval = "soon" }`: "server.raft_snapshot_interval",
		`server { raft_snapshot_threshold = -1 }`:    "server.raft_snapshot_threshold",
		`server { raft_trailing_logs = -5 }`:         "server.raft_trailing_logs",
	} {
		err := DefaultConfig().loadConfig("agent.hcl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "agent.hcl") {
			t.Errorf("%s: got %v, want an error naming agent.hcl and %s", src, err, want)
		}
	}
}
