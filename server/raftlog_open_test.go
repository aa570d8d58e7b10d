package server

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/drover-project/drover/server/raftlog"
)

// TestOpenRaftLogChoosesTheStore: a new data dir gets a raftlog log in
// raft/log and keeps it; one whose raft.db already holds log entries keeps
// its log there.
func TestOpenRaftLogChoosesTheStore(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	openBolt := func(t *testing.T, dir string) *raftboltdb.BoltStore {
		t.Helper()
		b, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}

	t.Run("new data dir", func(t *testing.T) {
		dir := t.TempDir()
		for round := 0; round < 2; round++ {
			b := openBolt(t, dir)
			ls, err := openRaftLog(dir, b, logger)
			if err != nil {
				t.Fatal(err)
			}
			st, ok := ls.(*raftlog.Store)
			if !ok {
				t.Fatalf("round %d: log store %T, want *raftlog.Store", round, ls)
			}
			if round == 0 {
				if err := st.StoreLogs([]*raft.Log{{Index: 1, Term: 1}, {Index: 2, Term: 1}}); err != nil {
					t.Fatal(err)
				}
			} else if last, _ := st.LastIndex(); last != 2 {
				t.Fatalf("reopened log ends at %d", last)
			}
			st.Close()
			b.Close() // bbolt locks the file
		}
		if _, err := os.Stat(filepath.Join(dir, "log")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("data dir with its log in raft.db", func(t *testing.T) {
		dir := t.TempDir()
		b := openBolt(t, dir)
		if err := b.StoreLog(&raft.Log{Index: 1, Term: 1}); err != nil {
			t.Fatal(err)
		}
		ls, err := openRaftLog(dir, b, logger)
		if err != nil {
			t.Fatal(err)
		}
		if ls != raft.LogStore(b) {
			t.Fatalf("log store %T, want raft.db's", ls)
		}
		if _, err := os.Stat(filepath.Join(dir, "log")); !os.IsNotExist(err) {
			t.Fatalf("raft/log was created: %v", err)
		}
	})
}
