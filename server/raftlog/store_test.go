package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// Compile-time checks of the interfaces Raft uses.
var (
	_ raft.LogStore          = (*Store)(nil)
	_ raft.MonotonicLogStore = (*Store)(nil)
)

// entry is a deterministic log entry whose fields all depend on i, with
// every optional field both set and unset across indexes.
func entry(i, term uint64) *raft.Log {
	l := &raft.Log{Index: i, Term: term, Type: raft.LogType(i % 6)}
	if i%5 != 0 {
		l.Data = bytes.Repeat([]byte{byte(i), byte(term)}, int(i%37)*7+1)
	}
	if i%3 == 0 {
		l.Extensions = []byte(fmt.Sprintf("ext-%d", i))
	}
	if i%4 != 0 {
		l.AppendedAt = time.Unix(1_700_000_000+int64(i), int64(i*7919)%1e9)
	}
	return l
}

func entries(from, to, term uint64) []*raft.Log {
	var ls []*raft.Log
	for i := from; i <= to; i++ {
		ls = append(ls, entry(i, term))
	}
	return ls
}

func open(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func reopen(t testing.TB, s *Store) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return open(t, s.dir, s.opts)
}

func mustStore(t testing.TB, s raft.LogStore, logs []*raft.Log) {
	t.Helper()
	if err := s.StoreLogs(logs); err != nil {
		t.Fatalf("store %d-%d: %v", logs[0].Index, logs[len(logs)-1].Index, err)
	}
}

func mustDelete(t testing.TB, s raft.LogStore, min, max uint64) {
	t.Helper()
	if err := s.DeleteRange(min, max); err != nil {
		t.Fatalf("delete %d-%d: %v", min, max, err)
	}
}

func sameLog(a, b *raft.Log) bool {
	return a.Index == b.Index && a.Term == b.Term && a.Type == b.Type &&
		bytes.Equal(a.Data, b.Data) && bytes.Equal(a.Extensions, b.Extensions) &&
		a.AppendedAt.Equal(b.AppendedAt)
}

// checkSame compares every observable of got with the reference want.
func checkSame(t testing.TB, got, want raft.LogStore) {
	t.Helper()
	gf, err1 := got.FirstIndex()
	gl, err2 := got.LastIndex()
	wf, _ := want.FirstIndex()
	wl, _ := want.LastIndex()
	if err1 != nil || err2 != nil {
		t.Fatalf("first/last: %v %v", err1, err2)
	}
	if gf != wf || gl != wl {
		t.Fatalf("first, last = %d, %d; want %d, %d", gf, gl, wf, wl)
	}
	lo := uint64(0)
	if wf > 3 {
		lo = wf - 3
	}
	for i := lo; i <= wl+3; i++ {
		var g, w raft.Log
		gerr, werr := got.GetLog(i, &g), want.GetLog(i, &w)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("GetLog(%d): %v; reference: %v", i, gerr, werr)
		}
		if gerr != nil {
			if !errors.Is(gerr, raft.ErrLogNotFound) {
				t.Fatalf("GetLog(%d): %v, want ErrLogNotFound", i, gerr)
			}
			continue
		}
		if !sameLog(&g, &w) {
			t.Fatalf("GetLog(%d) = %+v, want %+v", i, g, w)
		}
	}
}

// both applies every change to the store and to raft's in-memory store.
type both struct {
	t    testing.TB
	s    *Store
	want *raft.InmemStore
}

func (b *both) store(logs ...*raft.Log) {
	b.t.Helper()
	mustStore(b.t, b.s, logs)
	mustStore(b.t, b.want, logs)
}

func (b *both) delete(min, max uint64) {
	b.t.Helper()
	mustDelete(b.t, b.s, min, max)
	mustDelete(b.t, b.want, min, max)
}

func (b *both) check() {
	b.t.Helper()
	checkSame(b.t, b.s, b.want)
}

func (b *both) reopen() {
	b.t.Helper()
	b.s = reopen(b.t, b.s)
	b.check()
}

func TestEmpty(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	b := &both{t: t, s: s, want: raft.NewInmemStore()}
	b.check()
	b.reopen()
	mustDelete(t, b.s, 1, 10) // nothing to delete
	b.check()
}

func TestEveryFieldRoundTrips(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	at := time.Date(2026, 11, 23, 16, 0, 0, 123456789, time.UTC)
	logs := []*raft.Log{
		{Index: 7, Term: 3, Type: raft.LogConfiguration, Data: []byte("cfg"), Extensions: []byte{0, 1, 2}, AppendedAt: at},
		{Index: 8, Term: 1<<64 - 1, Type: raft.LogType(255)},
		{Index: 9, Term: 4, Type: raft.LogCommand, Data: bytes.Repeat([]byte{0xff}, 70000), AppendedAt: time.Unix(-5, 1)},
	}
	mustStore(t, s, logs)
	for round := 0; round < 2; round++ {
		for _, want := range logs {
			var got raft.Log
			if err := s.GetLog(want.Index, &got); err != nil {
				t.Fatal(err)
			}
			if !sameLog(&got, want) {
				t.Fatalf("round %d: got %+v, want %+v", round, got, *want)
			}
		}
		s = reopen(t, s)
	}
}

func TestAgainstInmemStore(t *testing.T) {
	// Small segments, so that every kind of change crosses segment ends.
	s := open(t, t.TempDir(), Options{SegmentSize: 4 << 10})
	b := &both{t: t, s: s, want: raft.NewInmemStore()}

	b.store(entry(1, 1))
	b.store(entries(2, 40, 1)...)
	for i := uint64(41); i <= 120; i += 7 {
		b.store(entries(i, i+6, 2)...)
	}
	b.check()
	b.reopen()
	if n := len(b.s.segs); n < 5 {
		t.Fatalf("%d segments, want several", n)
	}

	b.delete(1, 10) // compaction inside the first segment
	b.check()
	b.reopen()
	b.delete(11, 70) // compaction across segments
	b.reopen()
	b.delete(100, 126) // a conflicting tail, across segments
	b.check()
	b.store(entries(100, 110, 3)...)
	b.reopen()
	b.delete(110, 110) // the last entry alone
	b.store(entries(110, 130, 4)...)
	b.reopen()
	b.delete(1, 1000) // all of it, as after installing a snapshot
	b.reopen()
	b.store(entries(5000, 5010, 5)...) // an empty log starts anywhere
	b.reopen()
	b.store(entries(5011, 5100, 5)...)
	b.delete(5000, 5050)
	b.delete(5051, 5100)
	b.reopen()
	b.store(entries(6000, 6001, 6)...)
	b.reopen()
}

func TestStoreLogsRefusesGapsAndOverlaps(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	mustStore(t, s, entries(10, 12, 1))
	for _, logs := range [][]*raft.Log{
		{entry(14, 1)},               // gap
		{entry(12, 1)},               // overlap
		{entry(13, 1), entry(15, 1)}, // gap inside the batch
	} {
		if err := s.StoreLogs(logs); !errors.Is(err, errNotContiguous) {
			t.Fatalf("store %d: %v, want errNotContiguous", logs[0].Index, err)
		}
	}
	mustDelete(t, s, 10, 12)
	if err := s.StoreLog(&raft.Log{Index: 0}); !errors.Is(err, errNotContiguous) {
		t.Fatalf("index 0: %v", err)
	}
	if l, _ := s.LastIndex(); l != 0 {
		t.Fatalf("last %d", l)
	}
}

func TestDeleteInsideRefused(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	mustStore(t, s, entries(1, 10, 1))
	if err := s.DeleteRange(3, 5); err == nil {
		t.Fatal("deleting from inside the log worked")
	}
	// Ranges outside the log delete nothing.
	mustDelete(t, s, 20, 30)
	mustDelete(t, s, 5, 4)
	if f, _ := s.FirstIndex(); f != 1 {
		t.Fatalf("first %d", f)
	}
}

func TestSegmentsRollAndAreRemoved(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{SegmentSize: 4 << 10})
	for i := uint64(1); i <= 200; i += 10 {
		mustStore(t, s, entries(i, i+9, 1))
	}
	segs := segmentFiles(t, dir)
	if len(segs) < 10 {
		t.Fatalf("%d segment files", len(segs))
	}
	// Every full segment is trimmed to its records.
	for _, seg := range s.segs[:len(s.segs)-1] {
		fi, err := os.Stat(seg.path)
		if err != nil || fi.Size() != seg.end {
			t.Fatalf("%s: size %v, want %d (%v)", seg.path, fi.Size(), seg.end, err)
		}
	}
	mustDelete(t, s, 1, 150)
	if got := segmentFiles(t, dir); len(got) >= len(segs)/2 {
		t.Fatalf("%d segment files left of %d", len(got), len(segs))
	}
	mustDelete(t, s, 151, 200)
	if got := segmentFiles(t, dir); len(got) != 0 {
		t.Fatalf("%d segment files left after deleting everything", len(got))
	}
}

func TestBatchLargerThanSegment(t *testing.T) {
	s := open(t, t.TempDir(), Options{SegmentSize: 1 << 10})
	b := &both{t: t, s: s, want: raft.NewInmemStore()}
	big := &raft.Log{Index: 1, Term: 1, Data: bytes.Repeat([]byte("x"), 5000)}
	b.store(big)
	b.store(entries(2, 3, 1)...)
	b.store(&raft.Log{Index: 4, Term: 1, Data: bytes.Repeat([]byte("y"), 5000)})
	b.reopen()
}

func TestClosed(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	mustStore(t, s, entries(1, 2, 1))
	s.Close()
	var l raft.Log
	if err := s.GetLog(1, &l); !errors.Is(err, errClosed) {
		t.Fatalf("GetLog after close: %v", err)
	}
	if err := s.StoreLog(entry(3, 1)); !errors.Is(err, errClosed) {
		t.Fatalf("StoreLog after close: %v", err)
	}
	if _, err := s.LastIndex(); !errors.Is(err, errClosed) {
		t.Fatalf("LastIndex after close: %v", err)
	}
}

func TestConcurrentReadsDuringWrites(t *testing.T) {
	s := open(t, t.TempDir(), Options{SegmentSize: 8 << 10})
	mustStore(t, s, entries(1, 10, 1))
	done := make(chan error)
	go func() {
		var err error
		for i := uint64(11); i < 400 && err == nil; i += 3 {
			err = s.StoreLogs(entries(i, i+2, 1))
			if i%30 == 2 && err == nil {
				first, _ := s.FirstIndex()
				err = s.DeleteRange(first, first+5)
			}
		}
		done <- err
	}()
	for reading := true; reading; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			reading = false
		default:
		}
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		for i := last; i+20 > last && i >= first && i > 0; i-- {
			var l raft.Log
			err := s.GetLog(i, &l)
			if err == nil && !sameLog(&l, entry(i, 1)) {
				t.Fatalf("GetLog(%d) = %+v", i, l)
			}
			if err != nil && !errors.Is(err, raft.ErrLogNotFound) {
				t.Fatalf("GetLog(%d): %v", i, err)
			}
		}
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpenIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "12.seg"), []byte("x"), 0o600)
	s := open(t, dir, Options{})
	mustStore(t, s, entries(1, 3, 1))
	s = reopen(t, s)
	if l, _ := s.LastIndex(); l != 3 {
		t.Fatalf("last %d", l)
	}
	if !strings.HasSuffix(s.segs[0].path, "00000000000000000001.seg") {
		t.Fatalf("segment path %s", s.segs[0].path)
	}
}
