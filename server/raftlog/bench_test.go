package raftlog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// BenchmarkStoreLogs appends batches of 1 and of 16 entries of ~1 KiB, the
// size of a job registration, to this store (with and without preallocated
// segments) and to raft-boltdb opened as the server opened it before. The
// time is dominated by the syncs: one fdatasync per batch here, a bbolt
// commit (pages, then the meta page) there. Run it on the disk the data
// dir lives on (TMPDIR); tmpfs makes every sync free.
func BenchmarkStoreLogs(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B, dir string) raft.LogStore
	}{
		{"raftlog", func(b *testing.B, dir string) raft.LogStore {
			return open(b, dir, Options{})
		}},
		{"raftlog-nopreallocate", func(b *testing.B, dir string) raft.LogStore {
			return open(b, dir, Options{NoPreallocate: true})
		}},
		{"boltdb", func(b *testing.B, dir string) raft.LogStore {
			s, err := raftboltdb.New(raftboltdb.Options{
				Path:        filepath.Join(dir, "raft.db"),
				BoltOptions: &bbolt.Options{NoFreelistSync: true, FreelistType: bbolt.FreelistMapType},
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, batch := range []int{1, 16} {
		for _, st := range stores {
			b.Run(fmt.Sprintf("batch=%d/%s", batch, st.name), func(b *testing.B) {
				s := st.open(b, b.TempDir())
				data := bytes.Repeat([]byte("j"), 1000)
				logs := make([]*raft.Log, batch)
				for i := range logs {
					logs[i] = &raft.Log{Type: raft.LogCommand, Term: 1, Data: data, AppendedAt: time.Now()}
				}
				next := uint64(1)
				b.SetBytes(int64(batch * len(data)))
				b.ReportAllocs()
				for b.Loop() {
					for _, l := range logs {
						l.Index = next
						next++
					}
					if err := s.StoreLogs(logs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkGetLog reads back entries of ~1 KiB (the page cache holds them).
func BenchmarkGetLog(b *testing.B) {
	s := open(b, b.TempDir(), Options{})
	data := bytes.Repeat([]byte("j"), 1000)
	const n = 1024
	for i := uint64(1); i <= n; i += 64 {
		logs := make([]*raft.Log, 64)
		for j := range logs {
			logs[j] = &raft.Log{Index: i + uint64(j), Term: 1, Data: data}
		}
		mustStore(b, s, logs)
	}
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		var l raft.Log
		if err := s.GetLog(i%n+1, &l); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
