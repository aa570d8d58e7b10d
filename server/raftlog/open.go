package raftlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// load reads the meta file and every live segment, removes what a crash
// left half done, and builds the index.
func (s *Store) load() error {
	m, err := readMeta(s.dir)
	if err != nil {
		return err
	}
	s.meta = m
	// A meta.tmp is a replacement that never got renamed into place.
	if err := os.Remove(filepath.Join(s.dir, "meta.tmp")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("raftlog: %w", err)
	}

	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		if id, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	s.nextID = max(m.base, 1)
	if len(ids) > 0 {
		s.nextID = max(s.nextID, ids[len(ids)-1]+1)
	}

	var live []uint64
	for _, id := range ids {
		if id >= m.base {
			live = append(live, id)
			continue
		}
		// Deleted by a compaction or reset whose meta file was written
		// before the process stopped.
		if err := os.Remove(s.segmentPath(id)); err != nil {
			return fmt.Errorf("raftlog: remove deleted segment: %w", err)
		}
		s.log.Info("raftlog: removed a deleted segment", "file", s.segmentPath(id))
	}
	if m.firstIndex != 0 && (len(live) == 0 || live[0] != m.base) {
		return fmt.Errorf("raftlog: %s: segment %d, where the log starts, is missing", s.dir, m.base)
	}

	var next uint64 // index the next record must have; 0 until known
	for i, id := range live {
		seg, err := s.loadSegment(id, i == len(live)-1, &next)
		if err != nil {
			return err
		}
		if seg != nil {
			s.segs = append(s.segs, seg)
		}
	}
	if len(s.segs) > 0 {
		if s.last = s.lastIndex(); s.last != 0 {
			s.first = s.segs[0].first
		}
		last := s.segs[len(s.segs)-1]
		if fi, err := last.f.Stat(); err == nil && fi.Size() < s.opts.SegmentSize {
			s.reserve(last.f, fi.Size())
		}
	}
	return nil
}

func readMeta(dir string) (meta, error) {
	path := filepath.Join(dir, "meta")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return meta{}, nil
	}
	if err != nil {
		return meta{}, fmt.Errorf("raftlog: %w", err)
	}
	m, err := parseMeta(b)
	if err != nil {
		return meta{}, fmt.Errorf("raftlog: %s: %w", path, err)
	}
	return m, nil
}

// loadSegment opens and checks one live segment; next is the index its
// first record must have (0: any), and is advanced past its last record.
// A last segment whose creation was interrupted is removed (nil, nil).
func (s *Store) loadSegment(id uint64, isLast bool, next *uint64) (*segment, error) {
	path := s.segmentPath(id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("raftlog: %w", err)
	}
	seg, err := s.checkSegment(f, path, id, isLast, next)
	if seg == nil {
		f.Close()
	}
	return seg, err
}

func (s *Store) checkSegment(f *os.File, path string, id uint64, isLast bool, next *uint64) (*segment, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("raftlog: %w", err)
	}
	w := &window{f: f, size: fi.Size()}
	hdr, err := w.at(0, segmentHeaderSize)
	if err != nil {
		return nil, fmt.Errorf("raftlog: read %s: %w", path, err)
	}
	hid, err := parseSegmentHeader(hdr)
	if err != nil {
		// roll syncs a new segment's header before writing any record
		// to it, so a last segment with a bad header and no record never
		// held an acknowledged entry: its creation was interrupted.
		startsLog := id == s.meta.base && s.meta.firstIndex != 0
		if isLast && !startsLog {
			rest, rerr := w.at(segmentHeaderSize, int(max(w.size-segmentHeaderSize, 0)))
			if rerr == nil && !containsRecord(rest) {
				s.log.Warn("raftlog: removing a segment whose creation was interrupted", "file", path)
				if err := os.Remove(path); err != nil {
					return nil, fmt.Errorf("raftlog: %w", err)
				}
				return nil, syncDir(s.dir)
			}
		}
		return nil, fmt.Errorf("raftlog: %s: offset 0: %w", path, err)
	}
	if hid != id {
		return nil, fmt.Errorf("raftlog: %s: offset 0: header names segment %d", path, hid)
	}

	seg := &segment{id: id, path: path, f: f}
	off := int64(segmentHeaderSize)
	for off < w.size {
		r, err := w.record(off)
		if w.err != nil {
			return nil, fmt.Errorf("raftlog: read %s: %w", path, w.err)
		}
		if err != nil {
			if !isLast {
				return nil, fmt.Errorf("raftlog: %s: offset %d: %w (the segment is followed by others, so its records were acknowledged)", path, off, err)
			}
			if err := s.repairTail(seg, w, off, *next); err != nil {
				return nil, err
			}
			break
		}
		if *next != 0 && r.index != *next {
			return nil, fmt.Errorf("raftlog: %s: offset %d: record has index %d, want %d", path, off, r.index, *next)
		}
		if len(seg.offs) == 0 {
			seg.first = r.index
		}
		seg.offs = append(seg.offs, off)
		*next = r.index + 1
		off += int64(r.size)
	}
	seg.end = off
	if len(seg.offs) == 0 && !isLast {
		return nil, fmt.Errorf("raftlog: %s: holds no record but is followed by other segments", path)
	}

	// The log may start inside the base segment (compact).
	if fi := s.meta.firstIndex; fi != 0 && id == s.meta.base {
		if len(seg.offs) == 0 || fi < seg.first || fi >= *next {
			return nil, fmt.Errorf("raftlog: %s: does not hold index %d, where the meta file says the log starts", path, fi)
		}
		seg.offs = slices.Clone(seg.offs[fi-seg.first:])
		seg.first = fi
	}
	return seg, nil
}

// repairTail handles the first bytes of the last segment, at off, that are
// not a valid record with the index next (0: any). Zeros to the end are
// unused preallocated space. Anything else is the end of the write that
// was in progress when the process stopped, and is cut off — unless a
// record written by a later StoreLogs follows: then the damaged bytes were
// synced, acknowledged entries, and Open refuses to go on. A later write is
// recognized by the batch index every record carries: the first record of
// a batch, or a batch starting above next, cannot belong to the torn write
// (it started at or before off).
func (s *Store) repairTail(seg *segment, w *window, off int64, next uint64) error {
	dirty := false
	for p := off; p < w.size && !dirty; p += windowSize {
		b, err := w.at(p, windowSize)
		if err != nil {
			return fmt.Errorf("raftlog: read %s: %w", seg.path, err)
		}
		dirty = slices.ContainsFunc(b, func(c byte) bool { return c != 0 })
	}
	if !dirty {
		return nil
	}
	tail, err := w.at(off, int(w.size-off))
	if err != nil {
		return fmt.Errorf("raftlog: read %s: %w", seg.path, err)
	}
	for i := 1; i+recordHeaderSize <= len(tail); i++ {
		if le.Uint32(tail[i+4:]) != recordMagic {
			continue
		}
		r, err := parseRecord(tail[i:])
		if err != nil {
			continue
		}
		if r.index == r.batchFirst || (next != 0 && r.batchFirst > next) {
			return fmt.Errorf("raftlog: %s: offset %d: damaged record, followed by a later write at offset %d: acknowledged entries are damaged", seg.path, off, off+int64(i))
		}
	}
	s.log.Warn("raftlog: cutting off the incomplete last write", "file", seg.path, "offset", off, "bytes", len(tail))
	err = seg.f.Truncate(off)
	if err == nil {
		err = seg.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("raftlog: truncate %s: %w", seg.path, err)
	}
	return nil
}

// window reads a segment through a buffer that slides forward, so that
// Open checks a segment without holding all of it at once (most of a new
// last segment is preallocated zeros).
type window struct {
	f     *os.File
	size  int64
	buf   []byte
	start int64 // file offset of buf[0]
	err   error // the first failed read of record
}

const windowSize = 1 << 20

// at returns the n bytes at off, fewer where the file ends first. They
// stay valid until the next call.
func (w *window) at(off int64, n int) ([]byte, error) {
	n = int(min(int64(n), w.size-off))
	if n <= 0 {
		return nil, nil
	}
	if off >= w.start && off+int64(n) <= w.start+int64(len(w.buf)) {
		return w.buf[off-w.start:][:n], nil
	}
	m := int(min(int64(max(n, windowSize)), w.size-off))
	if cap(w.buf) < m {
		w.buf = make([]byte, m)
	}
	w.buf = w.buf[:m]
	if _, err := w.f.ReadAt(w.buf, off); err != nil && !errors.Is(err, io.EOF) {
		w.buf = w.buf[:0]
		return nil, err
	}
	w.start = off
	return w.buf[:n], nil
}

// record checks the record at off and says why it is not a valid one. A
// failed read is w.err; the record is then invalid too.
func (w *window) record(off int64) (record, error) {
	b, err := w.at(off, recordHeaderSize)
	if err != nil {
		w.err = err
		return record{}, err
	}
	n, err := recordLen(b)
	if err != nil {
		return record{}, err
	}
	if b, err = w.at(off, n); err != nil {
		w.err = err
		return record{}, err
	}
	return parseRecord(b)
}

// containsRecord tells whether a valid record starts anywhere in b.
func containsRecord(b []byte) bool {
	for i := 0; i+recordHeaderSize <= len(b); i++ {
		if le.Uint32(b[i+4:]) == recordMagic {
			if _, err := parseRecord(b[i:]); err == nil {
				return true
			}
		}
	}
	return false
}
