package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"go.etcd.io/bbolt"
)

// Raft log store kinds (agent: server { raft_log_store }).
const (
	// RaftLogStoreWAL is hashicorp/raft-wal: segment files appended to,
	// with one fsync per append batch. The default for new data dirs.
	RaftLogStoreWAL = "wal"
	// RaftLogStoreBoltDB is hashicorp/raft-boltdb (raft/raft.db): every
	// append is a bbolt commit, two fsyncs (data pages, then meta page).
	RaftLogStoreBoltDB = "boltdb"
)

// Where each kind keeps its files under <data_dir>/raft.
const (
	boltLogFile = "raft.db"
	walLogDir   = "wal"
)

// raftStore is the Raft log and stable store of a server.
type raftStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

// openRaftStore opens the Raft log store under dir (<data_dir>/raft).
// A dir that already holds a log keeps the kind it has, whatever want
// says: nothing is migrated. A new dir gets want ("" means the WAL).
// It returns the store and its kind.
func openRaftStore(dir, want string, hlog hclog.Logger, log *slog.Logger) (raftStore, string, error) {
	switch want {
	case "", RaftLogStoreWAL, RaftLogStoreBoltDB:
	default:
		return nil, "", fmt.Errorf("server: raft log store %q: want %q or %q", want, RaftLogStoreWAL, RaftLogStoreBoltDB)
	}
	hasBolt, err := exists(filepath.Join(dir, boltLogFile))
	if err != nil {
		return nil, "", err
	}
	hasWAL, err := exists(filepath.Join(dir, walLogDir))
	if err != nil {
		return nil, "", err
	}
	kind := want
	reason := "new data dir"
	switch {
	case hasBolt && hasWAL:
		return nil, "", fmt.Errorf("server: %s holds both a boltdb raft log (%s) and a WAL (%s): remove the one not in use",
			dir, boltLogFile, walLogDir)
	case hasBolt:
		kind, reason = RaftLogStoreBoltDB, "existing log"
	case hasWAL:
		kind, reason = RaftLogStoreWAL, "existing log"
	case kind == "":
		kind = RaftLogStoreWAL
	}
	if want != "" && want != kind {
		log.Warn("data dir already holds a raft log of another kind; keeping it (no migration)",
			"configured", want, "using", kind, "dir", dir)
	}

	var store raftStore
	var path string
	switch kind {
	case RaftLogStoreWAL:
		path = filepath.Join(dir, walLogDir)
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, "", fmt.Errorf("server: raft WAL dir: %w", err)
		}
		// The WAL does not close the meta store it opens itself, so a
		// server restarted in the same process would wait forever for
		// its file lock: open it here and close it in walStore.Close.
		meta := &metadb.BoltMetaDB{}
		w, err := raftwal.Open(path, raftwal.WithMetaStore(meta), raftwal.WithLogger(hlog.Named("wal")))
		if err != nil {
			return nil, "", errors.Join(fmt.Errorf("server: open raft WAL %s: %w", path, err), meta.Close())
		}
		store = walStore{WAL: w, meta: meta}
	default:
		path = filepath.Join(dir, boltLogFile)
		b, err := raftboltdb.New(raftboltdb.Options{
			Path: path,
			BoltOptions: &bbolt.Options{
				// Every commit still fsyncs its pages and its meta page, so
				// nothing acknowledged is lost; only the free-page list is
				// not written each time (bbolt rebuilds it by scanning the
				// file when it opens). That saves a page write per commit,
				// and a Raft log commits on every append.
				NoFreelistSync: true,
				FreelistType:   bbolt.FreelistMapType,
			},
		})
		if err != nil {
			return nil, "", fmt.Errorf("server: open raft log %s: %w", path, err)
		}
		store = b
	}
	log.Info("raft log store", "kind", kind, "path", path, "reason", reason)
	return store, kind, nil
}

// walStore is the WAL with its head truncation made exact. raft-wal
// v0.4.0 deletes only whole segments and still returns entries below its
// first index from a segment it keeps. Raft sends a snapshot to a follower
// whose next entry the leader's log no longer has, so entries compacted
// away must be gone, as they are from bbolt: otherwise a new follower is
// sent the whole log from its remains. Cheap: FirstIndex reads the WAL's
// in-memory state.
type walStore struct {
	*raftwal.WAL
	meta *metadb.BoltMetaDB
}

// Close closes the WAL, then its meta store.
func (s walStore) Close() error {
	return errors.Join(s.WAL.Close(), s.meta.Close())
}

func (s walStore) GetLog(index uint64, l *raft.Log) error {
	first, err := s.WAL.FirstIndex()
	if err != nil {
		return err
	}
	if index < first {
		return raft.ErrLogNotFound
	}
	return s.WAL.GetLog(index, l)
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("server: raft log store: %w", err)
}
