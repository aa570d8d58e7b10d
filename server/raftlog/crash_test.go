package raftlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// The tests here damage the files the way a crash or a bad disk would and
// check what Open makes of them.

// lastSegment is the path of the newest segment file and its records' end.
func lastSegment(t testing.TB, s *Store) (string, int64) {
	t.Helper()
	seg := s.segs[len(s.segs)-1]
	return seg.path, seg.end
}

// recordOffsets are where the records of the last segment start.
func recordOffsets(s *Store) []int64 {
	return append([]int64(nil), s.segs[len(s.segs)-1].offs...)
}

func expectLog(t testing.TB, s *Store, first, last uint64, term func(i uint64) uint64) {
	t.Helper()
	want := raft.NewInmemStore()
	if last > 0 {
		for i := first; i <= last; i++ {
			mustStore(t, want, []*raft.Log{entry(i, term(i))})
		}
	}
	checkSame(t, s, want)
}

func term1(uint64) uint64 { return 1 }

// TestTornLastWriteAtEveryByte cuts the last batch at every byte: the
// complete records before the cut survive, the rest is gone, and the log
// takes appends again. A cut file is what a process killed inside write()
// leaves; zeros and garbage after the cut are what a machine that lost
// power may leave in preallocated space.
func TestTornLastWriteAtEveryByte(t *testing.T) {
	for _, fill := range []string{"cut", "zeros", "garbage"} {
		t.Run(fill, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{SegmentSize: 16 << 10})
			mustStore(t, s, entries(1, 5, 1))
			before := recordOffsets(s)
			mustStore(t, s, entries(6, 8, 1)) // the torn write
			path, end := lastSegment(t, s)
			offs := recordOffsets(s)[len(before):]
			s.Close()
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for cut := offs[0]; cut < end; cut++ {
				damaged := bytes.Clone(orig)
				switch fill {
				case "cut":
					damaged = damaged[:cut]
				case "zeros":
					clear(damaged[cut:end])
				case "garbage":
					for i := cut; i < end; i++ {
						damaged[i] = byte(i*131) | 1
					}
				}
				if err := os.WriteFile(path, damaged, 0o600); err != nil {
					t.Fatal(err)
				}
				s, err := Open(dir, Options{SegmentSize: 16 << 10})
				if err != nil {
					t.Fatalf("cut at %d: %v", cut, err)
				}
				// The records that end before the cut are whole.
				last := uint64(5)
				for i := range offs {
					recEnd := end
					if i+1 < len(offs) {
						recEnd = offs[i+1]
					}
					if recEnd <= cut {
						last = 6 + uint64(i)
					}
				}
				expectLog(t, s, 1, last, term1)
				// The repaired log takes the rest again and keeps it.
				mustStore(t, s, entries(last+1, 9, 2))
				s.Close()
				s = open(t, dir, Options{SegmentSize: 16 << 10})
				expectLog(t, s, 1, 9, func(i uint64) uint64 {
					if i > last {
						return 2
					}
					return 1
				})
				s.Close()
			}
		})
	}
}

// TestDamageBeforeALaterWriteIsAnError: damage to a record that a later
// batch follows was synced and acknowledged; Open names the file and the
// offset and drops nothing, in the last segment and in any other.
func TestDamageBeforeALaterWriteIsAnError(t *testing.T) {
	for _, where := range []string{"last segment", "earlier segment"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{SegmentSize: 4 << 10})
			for i := uint64(1); i <= 60; i += 4 {
				mustStore(t, s, entries(i, i+3, 1))
			}
			if len(s.segs) < 3 {
				t.Fatalf("%d segments", len(s.segs))
			}
			seg := s.segs[len(s.segs)-1]
			if where == "earlier segment" {
				seg = s.segs[1]
			}
			if len(seg.offs) < 6 {
				t.Fatalf("%d records in the segment", len(seg.offs))
			}
			// Flip one bit of a record's payload, with batches after it.
			off := seg.offs[1] + recordHeaderSize - 1 + (seg.offs[2]-seg.offs[1]-recordHeaderSize)/2
			path := seg.path
			s.Close()
			flipBit(t, path, off)
			_, err := Open(dir, Options{SegmentSize: 4 << 10})
			if err == nil {
				t.Fatal("opened a log with a damaged acknowledged record")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "offset "+strconv.FormatInt(seg.offs[1], 10)) {
				t.Fatalf("error %q does not name %s and offset %d", err, path, seg.offs[1])
			}
			if fi, _ := os.Stat(path); fi.Size() <= seg.offs[1] {
				t.Fatal("Open cut the damaged segment anyway")
			}
		})
	}
}

func flipBit(t testing.TB, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x10
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedHeaders(t *testing.T) {
	t.Run("last segment created but never written", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, Options{SegmentSize: 4 << 10})
		mustStore(t, s, entries(1, 30, 1))
		s.Close()
		// A segment whose header write was cut short.
		next := s.segmentPath(s.nextID)
		if err := os.WriteFile(next, encodeSegmentHeader(s.nextID, 31)[:10], 0o600); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir, Options{SegmentSize: 4 << 10})
		expectLog(t, s, 1, 30, term1)
		if _, err := os.Stat(next); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the interrupted segment is still there: %v", err)
		}
		mustStore(t, s, entries(31, 40, 1))
		s = reopen(t, s)
		expectLog(t, s, 1, 40, term1)
	})
	t.Run("segment with records", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, Options{})
		mustStore(t, s, entries(1, 3, 1))
		path := s.segs[0].path
		s.Close()
		flipBit(t, path, 12)
		if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("meta", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, Options{})
		mustStore(t, s, entries(1, 3, 1))
		mustDelete(t, s, 1, 1)
		s.Close()
		flipBit(t, filepath.Join(dir, "meta"), 17)
		if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "meta") {
			t.Fatalf("open: %v", err)
		}
	})
	t.Run("missing base segment", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, Options{SegmentSize: 2 << 10})
		mustStore(t, s, entries(1, 30, 1))
		mustDelete(t, s, 1, 20)
		path := s.segs[0].path
		s.Close()
		os.Remove(path)
		if _, err := Open(dir, Options{SegmentSize: 2 << 10}); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("open: %v", err)
		}
	})
}

// crashAt runs change on a store whose hook stops it at step, as a crash
// there would, and returns the store reopened from what is on disk.
func crashAt(t *testing.T, s *Store, step string, change func(*Store) error) *Store {
	t.Helper()
	stopped := false
	s.hook = func(name string) error {
		if name == step {
			stopped = true
			return errors.New("crash at " + step)
		}
		return nil
	}
	err := change(s)
	if !stopped {
		t.Fatalf("never reached step %s (change returned %v)", step, err)
	}
	if err == nil {
		t.Fatalf("change went on after the crash at %s", step)
	}
	if err := s.StoreLog(entry(1<<40, 1)); err == nil {
		t.Fatal("a store stopped halfway took a write")
	}
	return reopen(t, s)
}

// TestCrashInsideChanges stops every multi-step change after each of its
// steps: reopened, the log is either as before the change or as after it
// (for a tail truncation, a prefix of the log before it, which Raft cuts
// again), and it goes on taking appends.
func TestCrashInsideChanges(t *testing.T) {
	const segSize = 2 << 10
	setup := func(t *testing.T) *Store {
		s := open(t, t.TempDir(), Options{SegmentSize: segSize})
		for i := uint64(1); i <= 100; i += 5 {
			mustStore(t, s, entries(i, i+4, 1))
		}
		if len(s.segs) < 5 {
			t.Fatalf("%d segments", len(s.segs))
		}
		return s
	}

	t.Run("compact", func(t *testing.T) {
		s := setup(t)
		s = crashAt(t, s, "compact:meta", func(s *Store) error { return s.DeleteRange(1, 60) })
		expectLog(t, s, 61, 100, term1) // the meta file committed it
		if n := len(segmentFiles(t, s.dir)); n != len(s.segs) {
			t.Fatalf("%d segment files for %d live segments", n, len(s.segs))
		}
		mustStore(t, s, entries(101, 110, 1))
		s = reopen(t, s)
		expectLog(t, s, 61, 110, term1)
	})

	t.Run("reset", func(t *testing.T) {
		s := setup(t)
		s = crashAt(t, s, "reset:meta", func(s *Store) error { return s.DeleteRange(1, 100) })
		expectLog(t, s, 0, 0, term1)
		if n := len(segmentFiles(t, s.dir)); n != 0 {
			t.Fatalf("%d segment files left", n)
		}
		// A snapshot's successor starts the log, here below the old end.
		mustStore(t, s, entries(51, 60, 2))
		s = reopen(t, s)
		expectLog(t, s, 51, 60, func(uint64) uint64 { return 2 })
	})

	for _, step := range []string{"truncate:removed", "truncate:cut"} {
		t.Run(step, func(t *testing.T) {
			s := setup(t)
			s = crashAt(t, s, step, func(s *Store) error { return s.DeleteRange(30, 100) })
			last, _ := s.LastIndex()
			if last < 29 || last > 100 {
				t.Fatalf("last index %d after a crash while deleting 30-100", last)
			}
			expectLog(t, s, 1, last, term1)
			// Raft deletes the conflicting entries again, then appends.
			mustDelete(t, s, 30, last)
			mustStore(t, s, entries(30, 40, 2))
			s = reopen(t, s)
			expectLog(t, s, 1, 40, func(i uint64) uint64 {
				if i >= 30 {
					return 2
				}
				return 1
			})
		})
	}

	for _, step := range []string{"roll:sealed", "roll:created"} {
		t.Run(step, func(t *testing.T) {
			s := setup(t)
			// Fill the last segment so that the next batch rolls.
			big := func(from, to uint64) []*raft.Log {
				ls := entries(from, to, 1)
				for _, l := range ls {
					l.Data = bytes.Repeat([]byte{byte(l.Index)}, segSize/2)
				}
				return ls
			}
			mustStore(t, s, big(101, 101))
			s = crashAt(t, s, step, func(s *Store) error { return s.StoreLogs(big(102, 102)) })
			want := raft.NewInmemStore()
			mustStore(t, want, entries(1, 100, 1))
			mustStore(t, want, big(101, 101))
			checkSame(t, s, want)
			mustStore(t, s, big(102, 103))
			mustStore(t, want, big(102, 103))
			s = reopen(t, s)
			checkSame(t, s, want)
		})
	}
}

// TestTruncateThenAppendThenReopen: entries cut off by a tail truncation
// never come back, also where the new entries take exactly their bytes.
func TestTruncateThenAppendThenReopen(t *testing.T) {
	for _, prealloc := range []bool{true, false} {
		opts := Options{SegmentSize: 1 << 20, NoPreallocate: !prealloc}
		s := open(t, t.TempDir(), opts)
		mustStore(t, s, entries(1, 10, 1))
		mustStore(t, s, entries(11, 20, 1))
		mustDelete(t, s, 15, 20)
		// Same sizes as the old 15-16, other terms: old 17 would follow.
		mustStore(t, s, entries(15, 16, 2))
		s = reopen(t, s)
		term := func(i uint64) uint64 {
			if i >= 15 {
				return 2
			}
			return 1
		}
		expectLog(t, s, 1, 16, term)
		mustStore(t, s, entries(17, 18, 2))
		s = reopen(t, s)
		expectLog(t, s, 1, 18, term)
	}
}

func TestLeftoverMetaTmpIsRemoved(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	mustStore(t, s, entries(1, 5, 1))
	mustDelete(t, s, 1, 2)
	s.Close()
	// A replacement that was written but never renamed into place.
	if err := os.WriteFile(filepath.Join(dir, "meta.tmp"), meta{base: 9, firstIndex: 99}.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, Options{})
	expectLog(t, s, 3, 5, term1)
	if _, err := os.Stat(filepath.Join(dir, "meta.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("meta.tmp: %v", err)
	}
}
