package raftlog

import (
	"os"
	"testing"

	"github.com/hashicorp/raft"
)

// FuzzOperations runs a sequence of appends, compactions, tail truncations,
// resets and reopens, read from the input, on a Store and on raft's
// in-memory store, and compares them after every step.
func FuzzOperations(f *testing.F) {
	f.Add([]byte{0, 7, 0, 7, 3, 0, 1, 3, 2, 2, 0, 5, 3, 0, 4, 9, 0, 3, 3, 0})
	f.Add([]byte{0, 255, 0, 255, 0, 255, 1, 40, 3, 0, 2, 30, 3, 0, 0, 9, 4, 1, 0, 1, 3, 0})
	f.Add([]byte{4, 0, 0, 1, 2, 0, 2, 0, 3, 0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		s := open(t, t.TempDir(), Options{SegmentSize: 1 << 10})
		b := &both{t: t, s: s, want: raft.NewInmemStore()}
		next, term := uint64(1), uint64(1)
		for i := 0; i+1 < len(ops); i += 2 {
			arg := uint64(ops[i+1])
			first, _ := b.want.FirstIndex()
			last, _ := b.want.LastIndex()
			switch ops[i] % 5 {
			case 0: // append a batch
				n := arg%9 + 1
				b.store(entries(next, next+n-1, term)...)
				next += n
			case 1: // compaction: delete a head, keeping at least one entry
				if last > first {
					b.delete(first, first+arg%(last-first))
				}
			case 2: // a conflicting tail, replaced by a new term's entries
				if last > first {
					from := last - arg%(last-first)
					b.delete(from, last)
					next, term = from, term+1
				}
			case 3:
				b.reopen()
			case 4: // a snapshot installed: all gone, the log restarts later
				if last > 0 {
					b.delete(first, last)
				}
				next += arg
			}
			b.check()
		}
		b.reopen()
	})
}

// FuzzOpenDamaged damages the segment files of a log at the offsets the
// input gives. Open must not panic, and if it succeeds, what it returns is
// the log as written, possibly without the last batch, the only one whose
// fdatasync may not have returned: damage anywhere else is an error.
func FuzzOpenDamaged(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0, 0, 0x10, 0x80, 0, 0, 0x20, 0x40})
	f.Add([]byte{0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, damage []byte) {
		dir := t.TempDir()
		opts := Options{SegmentSize: 2 << 10, NoPreallocate: len(damage)%2 == 0}
		s := open(t, dir, opts)
		const lastBatch = 41
		for i := uint64(1); i < lastBatch; i += 4 {
			mustStore(t, s, entries(i, i+3, 1))
		}
		mustStore(t, s, entries(lastBatch, lastBatch+3, 1))
		var files [][]byte
		var paths []string
		total := 0
		for _, seg := range s.segs {
			b, err := os.ReadFile(seg.path)
			if err != nil {
				t.Fatal(err)
			}
			files, paths = append(files, b), append(paths, seg.path)
			total += len(b)
		}
		s.Close()
		for i := 0; i+3 < len(damage) && i < 64; i += 4 {
			off := (int(damage[i])<<16 | int(damage[i+1])<<8 | int(damage[i+2])) % total
			for j, b := range files {
				if off < len(b) {
					if damage[i+3] == 0 {
						files[j] = b[:off] // a file cut short
					} else {
						b[off] ^= damage[i+3]
					}
					break
				}
				off -= len(b)
			}
		}
		for j, b := range files {
			if err := os.WriteFile(paths[j], b, 0o600); err != nil {
				t.Fatal(err)
			}
		}

		s, err := Open(dir, opts)
		if err != nil {
			return
		}
		defer s.Close()
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		if first != 1 || last < lastBatch-1 || last > lastBatch+3 {
			t.Fatalf("opened a damaged log as %d-%d", first, last)
		}
		for i := first; i <= last; i++ {
			var l raft.Log
			err := s.GetLog(i, &l)
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if !sameLog(&l, entry(i, 1)) {
				t.Fatalf("entry %d reads back as %+v", i, l)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add(appendRecord(nil, entry(3, 2), 1))
	f.Add(make([]byte, recordHeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(b)
		if err != nil {
			return
		}
		var l raft.Log
		decodeRecord(b[:r.size], &l)
		if l.Index != r.index || l.Term != r.term {
			t.Fatalf("decoded %d/%d, parsed %d/%d", l.Index, l.Term, r.index, r.term)
		}
		again := appendRecord(nil, &l, r.batchFirst)
		if string(again) != string(b[:r.size]) {
			t.Fatalf("re-encoding differs")
		}
	})
}
