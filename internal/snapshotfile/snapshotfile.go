// Package snapshotfile reads and writes drover's snapshot archives: what
// `drover operator snapshot save` writes and `restore` and `inspect` read.
//
// An archive is a gzip-compressed tar file with two entries, in order:
//
//	meta.json  Meta: the Raft index and term the state was taken at, the
//	           state's size and SHA-256, and its record counts per table
//	state.bin  the state machine's snapshot stream, exactly as Raft stores it
//
// The metadata comes first so inspect reads only the start of a file, and
// the checksum lets a restore refuse a damaged file before Raft sees it.
package snapshotfile

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Format and Version identify an archive; the version moves when an older
// drover would misread a newer archive.
const (
	Format  = "drover-snapshot"
	Version = 1

	metaName  = "meta.json"
	stateName = "state.bin"
)

// maxMetaBytes bounds the metadata entry, so a hostile file cannot make a
// reader allocate without limit.
const maxMetaBytes = 1 << 20

// Meta describes the state inside an archive.
type Meta struct {
	Format  string
	Version int
	// ID is Raft's name of the snapshot.
	ID    string
	Index uint64
	Term  uint64
	// Size is the length of state.bin in bytes.
	Size int64
	// SHA256 is state.bin's checksum, hex encoded.
	SHA256 string
	// Tables counts the records per table (Job, Alloc, Eval, Node, ...).
	Tables    map[string]TableStats
	CreatedAt time.Time
}

// TableStats are one table's record count and encoded size in bytes.
type TableStats struct {
	Count int
	Size  int64
}

// Write writes an archive of meta and the size bytes read from state.
// meta.Size and meta.SHA256 must describe state (see Checksum).
func Write(w io.Writer, meta Meta, state io.Reader) error {
	meta.Format, meta.Version = Format, Version
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("snapshot: encode metadata: %w", err)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: meta.CreatedAt, Typeflag: tar.TypeReg}
	}
	if err := tw.WriteHeader(hdr(metaName, int64(len(mb)))); err != nil {
		return fmt.Errorf("snapshot: write metadata: %w", err)
	}
	if _, err := tw.Write(mb); err != nil {
		return fmt.Errorf("snapshot: write metadata: %w", err)
	}
	if err := tw.WriteHeader(hdr(stateName, meta.Size)); err != nil {
		return fmt.Errorf("snapshot: write state: %w", err)
	}
	if n, err := io.Copy(tw, io.LimitReader(state, meta.Size)); err != nil {
		return fmt.Errorf("snapshot: write state: %w", err)
	} else if n != meta.Size {
		return fmt.Errorf("snapshot: state is %d bytes, metadata says %d", n, meta.Size)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("snapshot: finish archive: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("snapshot: finish archive: %w", err)
	}
	return nil
}

// Checksum reads r to its end and returns its length and SHA-256 in hex.
func Checksum(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// ErrNotSnapshot says a file is not a drover snapshot archive.
var ErrNotSnapshot = errors.New("not a drover snapshot archive")

// Reader reads an archive: its metadata first, then its state.
type Reader struct {
	Meta Meta
	gz   *gzip.Reader
	tr   *tar.Reader
}

// Open reads the archive's metadata from r; the state follows with State.
func Open(r io.Reader) (*Reader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSnapshot, err)
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSnapshot, err)
	}
	if h.Name != metaName {
		return nil, fmt.Errorf("%w: first entry is %q, want %q", ErrNotSnapshot, h.Name, metaName)
	}
	mb, err := io.ReadAll(io.LimitReader(tr, maxMetaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("snapshot: read metadata: %w", err)
	}
	if len(mb) > maxMetaBytes {
		return nil, fmt.Errorf("%w: metadata is larger than %d bytes", ErrNotSnapshot, maxMetaBytes)
	}
	rd := &Reader{gz: gz, tr: tr}
	if err := json.Unmarshal(mb, &rd.Meta); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrNotSnapshot, err)
	}
	if rd.Meta.Format != Format {
		return nil, fmt.Errorf("%w: format %q", ErrNotSnapshot, rd.Meta.Format)
	}
	if rd.Meta.Version < 1 || rd.Meta.Version > Version {
		return nil, fmt.Errorf("snapshot: archive version %d is not supported (this drover reads 1 to %d)", rd.Meta.Version, Version)
	}
	return rd, nil
}

// CopyState writes the state to w and checks it against the metadata's
// size and checksum: on a mismatch w has received damaged data and the
// error says so.
func (r *Reader) CopyState(w io.Writer) error {
	h, err := r.tr.Next()
	if err != nil {
		return fmt.Errorf("snapshot: find state: %w", err)
	}
	if h.Name != stateName {
		return fmt.Errorf("%w: second entry is %q, want %q", ErrNotSnapshot, h.Name, stateName)
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, sum), r.tr)
	if err != nil {
		return fmt.Errorf("snapshot: read state: %w", err)
	}
	if n != r.Meta.Size {
		return fmt.Errorf("snapshot: state is %d bytes, metadata says %d: the file is damaged", n, r.Meta.Size)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != r.Meta.SHA256 {
		return fmt.Errorf("snapshot: state checksum %s does not match the metadata's %s: the file is damaged", got, r.Meta.SHA256)
	}
	return nil
}
