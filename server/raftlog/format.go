package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/hashicorp/raft"
)

// The on-disk formats, all little-endian, all checked with CRC-32C
// (Castagnoli: computed by a CPU instruction on amd64 and arm64).
//
// A segment file starts with a header:
//
//	0  [8]byte  segmentMagic
//	8  uint64   segment ID (also in the file name)
//	16 uint64   index the segment was created for (informational)
//	24 uint32   CRC-32C of bytes 0-23
//	28 uint32   zero
//
// and then holds records back to back. A record is one raft.Log:
//
//	0  uint32   CRC-32C of bytes 4 to the end of the record
//	4  uint32   recordMagic
//	8  uint64   Index
//	16 uint64   Term
//	24 uint64   index of the first record of the StoreLogs batch this one
//	            was written in: it tells a torn last write from damage to
//	            an earlier, acknowledged one (see Store.scanTail)
//	32 uint8    Type
//	33 uint8    flags (flagAppendedAt: AppendedAt is set)
//	34 uint16   zero
//	36 uint32   length of Data
//	40 uint32   length of Extensions
//	44 uint32   AppendedAt, nanoseconds of the second
//	48 int64    AppendedAt, Unix seconds
//	56          Data, then Extensions
//
// The meta file (see meta) is:
//
//	0  [8]byte  metaMagic
//	8  uint64   base: the ID of the first live segment
//	16 uint64   first index of the log in that segment (0: its first record)
//	24 uint32   CRC-32C of bytes 0-23
//	28 uint32   zero

const (
	segmentHeaderSize = 32
	recordHeaderSize  = 56
	metaSize          = 32

	recordMagic = 0x4c525644 // "DVRL"

	flagAppendedAt = 1 << 0

	// maxRecordPayload bounds Data plus Extensions, so that a damaged
	// length field is caught before it is used to slice or allocate.
	maxRecordPayload = 1 << 30
)

var (
	segmentMagic = [8]byte{'d', 'r', 'o', 'v', 'e', 'r', 'S', '1'}
	metaMagic    = [8]byte{'d', 'r', 'o', 'v', 'e', 'r', 'M', '1'}

	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	le         = binary.LittleEndian
)

// errIncomplete means the bytes end before the record does.
var errIncomplete = errors.New("incomplete record")

// recordSize is the encoded size of l.
func recordSize(l *raft.Log) int {
	return recordHeaderSize + len(l.Data) + len(l.Extensions)
}

// appendRecord encodes l at the end of buf.
func appendRecord(buf []byte, l *raft.Log, batchFirst uint64) []byte {
	start := len(buf)
	n := recordSize(l)
	if cap(buf)-start < n {
		grown := make([]byte, start, 2*cap(buf)+n)
		copy(grown, buf)
		buf = grown
	}
	buf = buf[:start+n]
	r := buf[start:]
	le.PutUint32(r[4:], recordMagic)
	le.PutUint64(r[8:], l.Index)
	le.PutUint64(r[16:], l.Term)
	le.PutUint64(r[24:], batchFirst)
	r[32] = byte(l.Type)
	var flags byte
	var sec int64
	var nsec uint32
	if !l.AppendedAt.IsZero() {
		flags |= flagAppendedAt
		sec, nsec = l.AppendedAt.Unix(), uint32(l.AppendedAt.Nanosecond())
	}
	r[33] = flags
	r[34], r[35] = 0, 0
	le.PutUint32(r[36:], uint32(len(l.Data)))
	le.PutUint32(r[40:], uint32(len(l.Extensions)))
	le.PutUint32(r[44:], nsec)
	le.PutUint64(r[48:], uint64(sec))
	copy(r[recordHeaderSize:], l.Data)
	copy(r[recordHeaderSize+len(l.Data):], l.Extensions)
	le.PutUint32(r[0:], crc32.Checksum(r[4:], castagnoli))
	return buf
}

// record is a decoded record header; the payload stays in the buffer.
type record struct {
	index, term, batchFirst uint64
	size                    int // bytes of the whole record
}

// recordLen checks a record header (the first recordHeaderSize bytes of
// b) and returns the size of the whole record.
func recordLen(b []byte) (int, error) {
	if len(b) < recordHeaderSize {
		return 0, errIncomplete
	}
	if le.Uint32(b[4:]) != recordMagic {
		return 0, errors.New("no record header")
	}
	if b[33]&^flagAppendedAt != 0 || b[34] != 0 || b[35] != 0 {
		return 0, errors.New("unknown flags in record header")
	}
	if nsec := le.Uint32(b[44:]); nsec >= 1e9 || b[33]&flagAppendedAt == 0 && (nsec != 0 || le.Uint64(b[48:]) != 0) {
		return 0, errors.New("invalid time in record header")
	}
	dataLen, extLen := uint64(le.Uint32(b[36:])), uint64(le.Uint32(b[40:]))
	if dataLen+extLen > maxRecordPayload {
		return 0, fmt.Errorf("record length %d out of bounds", dataLen+extLen)
	}
	return recordHeaderSize + int(dataLen+extLen), nil
}

// parseRecord checks the record at the start of b: errIncomplete if b ends
// before it does, another error if it is not a valid record.
func parseRecord(b []byte) (record, error) {
	size, err := recordLen(b)
	if err != nil {
		return record{}, err
	}
	if len(b) < size {
		return record{}, errIncomplete
	}
	if crc32.Checksum(b[4:size], castagnoli) != le.Uint32(b) {
		return record{}, errors.New("record checksum mismatch")
	}
	r := record{index: le.Uint64(b[8:]), term: le.Uint64(b[16:]), batchFirst: le.Uint64(b[24:]), size: size}
	if r.index == 0 || r.batchFirst == 0 || r.batchFirst > r.index {
		return record{}, fmt.Errorf("record index %d (batch from %d) is invalid", r.index, r.batchFirst)
	}
	return r, nil
}

// decodeRecord fills l from a record that parseRecord accepted. Data and
// Extensions point into b.
func decodeRecord(b []byte, l *raft.Log) {
	dataLen, extLen := int(le.Uint32(b[36:])), int(le.Uint32(b[40:]))
	*l = raft.Log{
		Index: le.Uint64(b[8:]),
		Term:  le.Uint64(b[16:]),
		Type:  raft.LogType(b[32]),
	}
	if dataLen > 0 {
		l.Data = b[recordHeaderSize : recordHeaderSize+dataLen : recordHeaderSize+dataLen]
	}
	if extLen > 0 {
		l.Extensions = b[recordHeaderSize+dataLen : recordHeaderSize+dataLen+extLen]
	}
	if b[33]&flagAppendedAt != 0 {
		l.AppendedAt = time.Unix(int64(le.Uint64(b[48:])), int64(le.Uint32(b[44:])))
	}
}

func encodeSegmentHeader(id, firstIndex uint64) []byte {
	b := make([]byte, segmentHeaderSize)
	copy(b, segmentMagic[:])
	le.PutUint64(b[8:], id)
	le.PutUint64(b[16:], firstIndex)
	le.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	return b
}

// parseSegmentHeader returns the segment ID of a valid header.
func parseSegmentHeader(b []byte) (uint64, error) {
	if len(b) < segmentHeaderSize {
		return 0, errIncomplete
	}
	if [8]byte(b[:8]) != segmentMagic {
		return 0, errors.New("not a drover raft log segment")
	}
	if crc32.Checksum(b[:24], castagnoli) != le.Uint32(b[24:]) || le.Uint32(b[28:]) != 0 {
		return 0, errors.New("segment header checksum mismatch")
	}
	return le.Uint64(b[8:]), nil
}

// meta is what the meta file records: which segments are live and where
// the log starts. Head compaction and deleting the whole log only rewrite
// it (atomically) before they remove files, so a crash in between leaves
// files that the next Open removes, never a log with a hole in it.
type meta struct {
	base       uint64 // segments with a lower ID are deleted
	firstIndex uint64 // entries of segment base below it are deleted; 0: none
}

func (m meta) encode() []byte {
	b := make([]byte, metaSize)
	copy(b, metaMagic[:])
	le.PutUint64(b[8:], m.base)
	le.PutUint64(b[16:], m.firstIndex)
	le.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	return b
}

func parseMeta(b []byte) (meta, error) {
	if len(b) != metaSize || [8]byte(b[:8]) != metaMagic ||
		crc32.Checksum(b[:24], castagnoli) != le.Uint32(b[24:]) || le.Uint32(b[28:]) != 0 {
		return meta{}, errors.New("meta file is damaged")
	}
	return meta{base: le.Uint64(b[8:]), firstIndex: le.Uint64(b[16:])}, nil
}
