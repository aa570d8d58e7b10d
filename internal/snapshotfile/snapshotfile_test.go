package snapshotfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func archive(t *testing.T, state string) []byte {
	t.Helper()
	size, sum, err := Checksum(strings.NewReader(state))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	meta := Meta{ID: "2-10-1", Index: 10, Term: 2, Size: size, SHA256: sum, Tables: map[string]TableStats{"Job": {Count: 1, Size: 10}}, CreatedAt: time.Unix(1, 0).UTC()}
	if err := Write(&buf, meta, strings.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	r, err := Open(bytes.NewReader(archive(t, "line 1\nline 2\n")))
	if err != nil {
		t.Fatal(err)
	}
	if r.Meta.Index != 10 || r.Meta.Term != 2 || r.Meta.Tables["Job"].Count != 1 || r.Meta.Format != Format {
		t.Fatalf("metadata changed: %+v", r.Meta)
	}
	var state bytes.Buffer
	if err := r.CopyState(&state); err != nil {
		t.Fatal(err)
	}
	if state.String() != "line 1\nline 2\n" {
		t.Fatalf("state changed: %q", state.String())
	}
}

func TestDamagedStateIsRefused(t *testing.T) {
	// Same size, different bytes: only the checksum can tell.
	good := archive(t, "aaaa")
	r, err := Open(bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	r.Meta.SHA256 = strings.Repeat("0", 64)
	if err := r.CopyState(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v, want a damaged-file error", err)
	}
}

func TestNotAnArchive(t *testing.T) {
	if _, err := Open(strings.NewReader("{\"Format\":\"drover-fsm-snapshot\"}\n")); !errors.Is(err, ErrNotSnapshot) {
		t.Fatalf("got %v, want ErrNotSnapshot", err)
	}
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(bytes.NewReader(b))
		if err == nil {
			_ = r.CopyState(&bytes.Buffer{})
		}
	})
}
