package server

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

func TestOpenRaftStoreChoosesByDataDir(t *testing.T) {
	cases := []struct {
		name, want, existing, kind string
	}{
		{"new dir, default", "", "", RaftLogStoreWAL},
		{"new dir, wal", RaftLogStoreWAL, "", RaftLogStoreWAL},
		{"new dir, boltdb", RaftLogStoreBoltDB, "", RaftLogStoreBoltDB},
		{"bolt log kept although wal asked", RaftLogStoreWAL, RaftLogStoreBoltDB, RaftLogStoreBoltDB},
		{"bolt log kept by default", "", RaftLogStoreBoltDB, RaftLogStoreBoltDB},
		{"wal kept although boltdb asked", RaftLogStoreBoltDB, RaftLogStoreWAL, RaftLogStoreWAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.existing != "" {
				// The first open makes the log and stores an entry.
				s, kind, err := openRaftStore(dir, tc.existing, hclog.NewNullLogger(), slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				if kind != tc.existing {
					t.Fatalf("first open: kind %q, want %q", kind, tc.existing)
				}
				if err := s.StoreLogs([]*raft.Log{{Index: 1, Term: 1, Data: []byte("x")}}); err != nil {
					t.Fatal(err)
				}
				if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			s, kind, err := openRaftStore(dir, tc.want, hclog.NewNullLogger(), slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if kind != tc.kind {
				t.Fatalf("kind %q, want %q", kind, tc.kind)
			}
			if !strings.Contains(logs.String(), "kind="+tc.kind) {
				t.Fatalf("the store used is not logged: %q", logs.String())
			}
			if tc.existing == "" {
				return
			}
			var l raft.Log
			if err := s.GetLog(1, &l); err != nil || string(l.Data) != "x" {
				t.Fatalf("entry 1 after reopening: %v %q", err, l.Data)
			}
			if term, err := s.GetUint64([]byte("CurrentTerm")); err != nil || term != 7 {
				t.Fatalf("CurrentTerm after reopening: %d, %v", term, err)
			}
			if tc.want != "" && tc.want != tc.kind && !strings.Contains(logs.String(), "no migration") {
				t.Fatalf("keeping another kind than configured is not warned about: %q", logs.String())
			}
		})
	}
}

func TestOpenRaftStoreRejects(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := openRaftStore(dir, "rocksdb", hclog.NewNullLogger(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), `"rocksdb"`) {
		t.Fatalf("unknown kind: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, boltLogFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, walLogDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openRaftStore(dir, "", hclog.NewNullLogger(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("dir with both logs: err = %v", err)
	}
}

// Entries compacted away must be gone, so that the leader sends a snapshot
// to a follower that needs them.
func TestWALStoreHidesTruncatedEntries(t *testing.T) {
	s, _, err := openRaftStore(t.TempDir(), RaftLogStoreWAL, hclog.NewNullLogger(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := uint64(1); i <= 3; i++ {
		if err := s.StoreLog(&raft.Log{Index: i, Term: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRange(1, 2); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := s.GetLog(1, &l); err != raft.ErrLogNotFound {
		t.Fatalf("entry 1 after truncation: err = %v, want raft.ErrLogNotFound", err)
	}
	if err := s.GetLog(3, &l); err != nil || l.Index != 3 {
		t.Fatalf("entry 3: %v, index %d", err, l.Index)
	}
}
