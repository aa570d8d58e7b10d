package logs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func newTestReader(t *testing.T) (*Reader, func(int) string, chan struct{}) {
	dir := t.TempDir()
	path := func(i int) string { return filepath.Join(dir, "web.stdout."+strconv.Itoa(i)) }
	done := make(chan struct{})
	r := NewReader(path, done)
	r.PollInterval = time.Millisecond
	return r, path, done
}

func TestReadAcrossFiles(t *testing.T) {
	r, path, _ := newTestReader(t)
	if n, err := r.Size(); n != 0 || err != nil {
		t.Fatalf("size of missing log = %d, %v", n, err)
	}
	appendFile(t, path(0), "hello ")
	appendFile(t, path(1), "world")
	if n, _ := r.Size(); n != 11 {
		t.Fatalf("size = %d", n)
	}
	buf := make([]byte, 7)
	n, err := r.ReadAt(buf, 3)
	if n != 7 || err != nil || string(buf) != "lo worl" {
		t.Fatalf("ReadAt = %d %v %q", n, err, buf)
	}
	n, err = r.ReadAt(buf, 8)
	if n != 3 || !errors.Is(err, io.EOF) || string(buf[:n]) != "rld" {
		t.Fatalf("ReadAt at the end = %d %v %q", n, err, buf[:n])
	}
}

func TestWaitFollowsUntilTaskDies(t *testing.T) {
	r, path, done := newTestReader(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	grew := make(chan error, 1)
	go func() { grew <- r.Wait(ctx, 0) }()
	appendFile(t, path(0), "line 1\n")
	if err := <-grew; err != nil {
		t.Fatalf("Wait after growth = %v", err)
	}

	// Output written just before the task died is still seen before EOF.
	appendFile(t, path(0), "line 2\n")
	close(done)
	if err := r.Wait(ctx, 7); err != nil {
		t.Fatalf("Wait with unread output = %v", err)
	}
	if err := r.Wait(ctx, 14); !errors.Is(err, io.EOF) {
		t.Fatalf("Wait after death = %v, want EOF", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	r, _, _ := newTestReader(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Wait(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
}
