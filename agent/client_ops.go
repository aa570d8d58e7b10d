package agent

import (
	"context"
	"io"

	"github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// The client operations of the HTTP API (http.ClientOps), passed through
// to the client; only exec needs its options translated.

var _ http.ClientOps = logClient{}

func (l logClient) NodeID() string { return l.c.NodeID() }

func (l logClient) AllocDir(allocID string) (string, error) { return l.c.AllocDir(allocID) }

func (l logClient) RestartAlloc(allocID, task string) error { return l.c.RestartAlloc(allocID, task) }

func (l logClient) SignalAlloc(ctx context.Context, allocID, task, sig string) error {
	return l.c.SignalAlloc(ctx, allocID, task, sig)
}

func (l logClient) ExecAlloc(ctx context.Context, allocID, task string, opts *http.ExecOptions) (int, error) {
	resize := make(chan driver.TerminalSize, 1)
	go func() {
		defer close(resize)
		for s := range opts.Resize {
			select {
			case resize <- driver.TerminalSize{Height: s.Height, Width: s.Width}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return l.c.ExecAlloc(ctx, allocID, task, &driver.ExecOptions{
		Command: opts.Command,
		Tty:     opts.Tty,
		Stdin:   opts.Stdin,
		Stdout:  opts.Stdout,
		Stderr:  opts.Stderr,
		Resize:  resize,
	})
}

func (l logClient) AllocStats(ctx context.Context, allocID, task string) (*structs.AllocResourceUsage, error) {
	return l.c.AllocStats(ctx, allocID, task)
}

func (l logClient) HostStats(ctx context.Context) (*structs.HostStats, error) {
	return l.c.HostStats(ctx)
}

func (l logClient) StatFile(allocID, path string) (*structs.AllocFileInfo, error) {
	return l.c.StatFile(allocID, path)
}

func (l logClient) ListDir(allocID, path string) ([]*structs.AllocFileInfo, error) {
	return l.c.ListDir(allocID, path)
}

func (l logClient) OpenFile(allocID, path string) (io.ReadCloser, *structs.AllocFileInfo, error) {
	return l.c.OpenFile(allocID, path)
}
