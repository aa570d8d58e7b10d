// Package logs reads a task's log files as one growing stream, for the
// HTTP API's logs endpoint (which follows them like tail -f).
package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// DefaultPollInterval is how often Wait looks at the files for growth.
const DefaultPollInterval = 250 * time.Millisecond

// Reader is a task's log of one type: the files <task>.<type>.0, .1, ...
// read back to back as one stream (the client writes .0; rotation would add
// the others).
type Reader struct {
	// path returns the name of the index-th file.
	path func(index int) string
	// done is closed when the task is dead for good: nothing more will come.
	done <-chan struct{}
	// PollInterval is how often Wait checks for growth.
	PollInterval time.Duration
}

// NewReader returns a reader of the files named by path(0), path(1), ...;
// done is closed once the task will write no more.
func NewReader(path func(index int) string, done <-chan struct{}) *Reader {
	return &Reader{path: path, done: done, PollInterval: DefaultPollInterval}
}

// file is one log file and where it starts in the stream.
type file struct {
	name   string
	offset int64
	size   int64
}

// files lists the log files that exist, in order. A file not yet created
// (the task has not started) makes an empty stream.
func (r *Reader) files() ([]file, error) {
	var out []file
	var offset int64
	for i := 0; ; i++ {
		name := r.path(i)
		info, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("logs: %w", err)
		}
		out = append(out, file{name: name, offset: offset, size: info.Size()})
		offset += info.Size()
	}
}

// Size is the stream's current length.
func (r *Reader) Size() (int64, error) {
	files, err := r.files()
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, nil
	}
	last := files[len(files)-1]
	return last.offset + last.size, nil
}

// ReadAt reads len(p) bytes of the stream from off, across files; it
// returns io.EOF when it reaches the current end.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("logs: negative offset")
	}
	files, err := r.files()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		if n == len(p) {
			break
		}
		pos := off + int64(n)
		if pos >= f.offset+f.size {
			continue
		}
		want := min(int64(len(p)-n), f.offset+f.size-pos)
		m, err := readFileAt(f.name, p[n:n+int(want)], pos-f.offset)
		n += m
		if err != nil && !errors.Is(err, io.EOF) {
			return n, err
		}
		if int64(m) < want {
			break // the file shrank since it was listed: stop at what is known
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func readFileAt(name string, p []byte, off int64) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("logs: %w", err)
	}
	defer f.Close()
	return f.ReadAt(p, off)
}

// Wait blocks until the stream is longer than size. It returns io.EOF when
// the task is dead for good and the stream has not grown, and ctx's error
// when ctx ends first.
func (r *Reader) Wait(ctx context.Context, size int64) error {
	ticker := time.NewTicker(r.PollInterval)
	defer ticker.Stop()
	for {
		// Read the done signal before the size: output written before the
		// task died is then always seen.
		dead := isClosed(r.done)
		n, err := r.Size()
		if err != nil {
			return err
		}
		if n > size {
			return nil
		}
		if dead {
			return io.EOF
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
		case <-ticker.C:
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Close releases nothing: files are opened per read, so a rotated or
// removed file never stays held open.
func (r *Reader) Close() error { return nil }
