package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/client/driver"
)

var (
	_ driver.ExecDriver   = (*Driver)(nil)
	_ driver.SignalDriver = (*Driver)(nil)
)

// execInspectWait bounds how long ExecTask waits for the engine to record
// the exit code of a command whose output already ended.
const execInspectWait = 5 * time.Second

// ExecTask implements driver.ExecDriver with the engine's exec API: create
// the exec, attach to it, copy input and output, then read the exit code.
// A command that cannot be started (not found in the image) is not an
// error: the engine reports it on the output with exit code 126 or 127, as
// `docker exec` does.
func (d *Driver) ExecTask(ctx context.Context, h *driver.TaskHandle, opts *driver.ExecOptions) (int, error) {
	if h == nil || h.ContainerID == "" {
		return 0, errors.New("docker: exec: handle has no container ID")
	}
	if opts == nil || len(opts.Command) == 0 {
		return 0, errors.New("docker: exec: no command")
	}
	created, err := d.cli.ExecCreate(ctx, h.ContainerID, client.ExecCreateOptions{
		TTY:          opts.Tty,
		AttachStdin:  opts.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
		Cmd:          opts.Command,
	})
	switch {
	case cerrdefs.IsNotFound(err):
		return 0, fmt.Errorf("docker: exec: container %s: %w", h.ContainerID, driver.ErrTaskNotFound)
	case err != nil:
		return 0, fmt.Errorf("docker: exec in container %s: %w", h.ContainerID, err)
	}
	att, err := d.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: opts.Tty})
	if err != nil {
		return 0, fmt.Errorf("docker: exec: attach: %w", err)
	}
	defer att.Close()

	if opts.Stdin != nil {
		go func() {
			// An input error only ends the input; the command decides what
			// that means.
			_, _ = io.Copy(att.Conn, opts.Stdin)
			_ = att.CloseWrite()
		}()
	}
	if opts.Resize != nil {
		go d.resizeExec(ctx, created.ID, opts.Resize)
	}
	start := time.Now()
	stdout := &countingWriter{w: orDiscard(opts.Stdout)}
	stderr := &countingWriter{w: orDiscard(opts.Stderr)}
	outDone := make(chan error, 1)
	go func() {
		var err error
		if opts.Tty {
			_, err = io.Copy(stdout, att.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, att.Reader)
		}
		outDone <- err
	}()
	select {
	case err := <-outDone:
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("docker: exec: reading output: %w", err)
		}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	code, pid, err := d.execExitCode(ctx, created.ID)
	if err != nil {
		return 0, err
	}
	if code != 0 && stdout.n == 0 && stderr.n == 0 {
		// A failing command says why on its output; one that said nothing
		// is worth a line, to tell the engine's report from drover's part.
		d.logger.Info("exec exited non-zero without output", "container", h.ContainerID, "exec", created.ID,
			"command", opts.Command, "exit_code", code, "pid", pid, "duration", time.Since(start).Round(time.Millisecond))
	}
	return code, nil
}

// countingWriter counts the bytes written through it. Writes come from one
// goroutine, and n is read after it ended.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// execExitCode reads the exit code (and the process ID, for logs) of an
// exec whose output ended; the engine may need a moment to record it.
func (d *Driver) execExitCode(ctx context.Context, execID string) (code, pid int, err error) {
	ctx, cancel := context.WithTimeout(ctx, execInspectWait)
	defer cancel()
	for {
		res, err := d.cli.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return 0, 0, fmt.Errorf("docker: exec: inspect: %w", err)
		}
		if !res.Running {
			return res.ExitCode, res.PID, nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("docker: exec: output ended but the command still runs: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// resizeExec passes terminal size changes to the engine until ctx ends or
// the channel closes.
func (d *Driver) resizeExec(ctx context.Context, execID string, sizes <-chan driver.TerminalSize) {
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-sizes:
			if !ok {
				return
			}
			if s.Height <= 0 || s.Width <= 0 {
				continue
			}
			_, err := d.cli.ExecResize(ctx, execID, client.ExecResizeOptions{Height: uint(s.Height), Width: uint(s.Width)})
			if err != nil {
				d.logger.Debug("exec resize failed", "exec", execID, "error", err)
			}
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// SignalTask implements driver.SignalDriver: the engine delivers sig to the
// container's main process.
func (d *Driver) SignalTask(ctx context.Context, h *driver.TaskHandle, sig string) error {
	if h == nil || h.ContainerID == "" {
		return errors.New("docker: signal: handle has no container ID")
	}
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return errors.New("docker: signal: no signal given")
	}
	_, err := d.cli.ContainerKill(ctx, h.ContainerID, client.ContainerKillOptions{Signal: sig})
	switch {
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("docker: signal: container %s: %w", h.ContainerID, driver.ErrTaskNotFound)
	case err != nil:
		return fmt.Errorf("docker: send %s to container %s: %w", sig, h.ContainerID, err)
	}
	return nil
}
