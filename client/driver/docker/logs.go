package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// A task's output goes container → engine log (json-file) → the driver,
// which follows the engine's logs endpoint and appends to the task's
// stdout and stderr files. Following the log (rather than attaching to the
// container) means nothing is lost while no one is reading: a client that
// restarts picks up where it stopped.
//
// Where it stopped is kept in the files themselves. The driver asks the
// engine for timestamped lines, strips the timestamp, and sets each file's
// modification time to the engine's timestamp of the last line written to
// it. RecoverTask resumes from just after the newer of the two, so lines
// are neither repeated nor skipped, with no state outside the log files.
// (The file's own mtime could not serve: the kernel stamps writes with a
// coarse clock, which can lag the engine's timestamp of the line written.)

// logCopier is one running copy of a container's output.
type logCopier struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// logFiles are a task's open log files.
type logFiles struct {
	stdout, stderr *stampWriter
}

// openLogs opens (creating them and their directories if needed) the
// task's log files for appending. An empty path discards that stream.
func openLogs(cfg *driver.TaskConfig) (*logFiles, error) {
	stdout, err := openLog(cfg.StdoutPath)
	if err != nil {
		return nil, err
	}
	stderr, err := openLog(cfg.StderrPath)
	if err != nil {
		stdout.close()
		return nil, err
	}
	return &logFiles{stdout: stdout, stderr: stderr}, nil
}

func openLog(path string) (*stampWriter, error) {
	if path == "" {
		return &stampWriter{}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return &stampWriter{f: f}, nil
}

func (l *logFiles) close() {
	l.stdout.close()
	l.stderr.close()
}

// last is the engine timestamp of the last line copied to either file.
func (l *logFiles) last() time.Time {
	if l.stdout.last.After(l.stderr.last) {
		return l.stdout.last
	}
	return l.stderr.last
}

// stampWriter receives one log line per Write, as "<RFC3339Nano> <line>"
// (stdcopy hands over each frame in a single Write, and the engine sends
// each line in its own frame). It writes the line without its timestamp
// and records the timestamp as the file's modification time.
type stampWriter struct {
	f    *os.File // nil discards
	last time.Time
}

func (w *stampWriter) Write(p []byte) (int, error) {
	line := p
	ts, rest, ok := cutTimestamp(p)
	if ok {
		line = rest
	}
	if w.f == nil {
		if ok {
			w.last = ts
		}
		return len(p), nil
	}
	if _, err := w.f.Write(line); err != nil {
		return 0, err
	}
	if ok {
		w.last = ts
	}
	// The write set the mtime to now; put back the last line's timestamp
	// (a line without one, which the engine should never send, keeps the
	// previous mark). Best effort: a failure only weakens resumption.
	if !w.last.IsZero() {
		_ = os.Chtimes(w.f.Name(), time.Time{}, w.last)
	}
	return len(p), nil
}

func (w *stampWriter) close() {
	if w != nil && w.f != nil {
		w.f.Close()
	}
}

// cutTimestamp splits the engine's timestamp prefix off a log line.
func cutTimestamp(p []byte) (time.Time, []byte, bool) {
	// RFC3339Nano is at most 35 bytes; look no further for the space.
	sp := bytes.IndexByte(p[:min(len(p), 40)], ' ')
	if sp < 0 {
		return time.Time{}, nil, false
	}
	ts, err := time.Parse(time.RFC3339Nano, string(p[:sp]))
	if err != nil {
		return time.Time{}, nil, false
	}
	return ts, p[sp+1:], true
}

// resumePoint is where copying resumes for a task whose output was copied
// by an earlier process: just after the newest line in its log files. With
// no log files at all, everything is copied.
func resumePoint(cfg *driver.TaskConfig) time.Time {
	var newest time.Time
	for _, path := range []string{cfg.StdoutPath, cfg.StderrPath} {
		if path == "" {
			continue
		}
		if fi, err := os.Stat(path); err == nil && fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	if newest.IsZero() {
		return newest
	}
	// The engine's filter keeps lines at or after since; the newest line
	// itself was already copied.
	return newest.Add(time.Nanosecond)
}

// copyLogs starts copying the container's output from since (zero: from
// its first line) into out, which it closes when done. Copying ends when
// the container stops, is removed, or the driver is closed. It returns
// false, leaving out to the caller, when the container's output is already
// being copied: a second copier would duplicate every line.
func (d *Driver) copyLogs(id string, out *logFiles, since time.Time) bool {
	ctx, cancel := context.WithCancel(d.ctx)
	c := &logCopier{cancel: cancel, done: make(chan struct{})}
	d.mu.Lock()
	if _, ok := d.copiers[id]; ok {
		d.mu.Unlock()
		cancel()
		return false
	}
	d.copiers[id] = c
	d.mu.Unlock()

	go func() {
		defer func() {
			cancel()
			out.close()
			d.mu.Lock()
			if d.copiers[id] == c {
				delete(d.copiers, id)
			}
			d.mu.Unlock()
			close(c.done)
		}()
		d.follow(ctx, id, out, since)
	}()
	return true
}

// follow streams the container's log into out until the stream ends
// cleanly, which the engine does when the container stops. A broken stream
// (an engine restart, a dropped connection) is resumed after the last line
// copied, for as long as the container exists.
func (d *Driver) follow(ctx context.Context, id string, out *logFiles, since time.Time) {
	for {
		opts := client.ContainerLogsOptions{
			ShowStdout: true,
			ShowStderr: true,
			Follow:     true,
			Timestamps: true,
		}
		if !since.IsZero() {
			opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
		}
		rc, err := d.cli.ContainerLogs(ctx, id, opts)
		if err == nil {
			_, err = stdcopy.StdCopy(out.stdout, out.stderr, rc)
			rc.Close()
		}
		if err == nil || ctx.Err() != nil || cerrdefs.IsNotFound(err) {
			return
		}
		d.logger.Warn("log stream broken, resuming", "container", id, "error", err)
		if last := out.last(); !last.IsZero() {
			since = last.Add(time.Nanosecond)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// stopCopier stops copying a container's output and waits for the copier
// to finish.
func (d *Driver) stopCopier(id string) {
	d.mu.Lock()
	c := d.copiers[id]
	d.mu.Unlock()
	if c != nil {
		c.cancel()
		<-c.done
	}
}

// waitCopier waits, up to timeout, for the copier of a stopped container
// to copy the last of its output, so whoever learns that the task exited
// can rely on its log files being complete.
func (d *Driver) waitCopier(ctx context.Context, id string, timeout time.Duration) {
	d.mu.Lock()
	c := d.copiers[id]
	d.mu.Unlock()
	if c == nil {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		d.logger.Warn("log copy did not finish after the container stopped", "container", id)
	case <-ctx.Done():
	}
}

// recoverLogs restarts copying for a container found after a restart,
// unless this process already copies it.
func (d *Driver) recoverLogs(id string, cfg *driver.TaskConfig) error {
	since := resumePoint(cfg)
	out, err := openLogs(cfg)
	if err != nil {
		return err
	}
	if !d.copyLogs(id, out, since) {
		out.close()
	}
	return nil
}

// stampWriter is what stdcopy demultiplexes into.
var _ io.Writer = (*stampWriter)(nil)
