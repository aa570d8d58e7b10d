package client

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/allocrunner"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// Operations on the allocations this client runs, for the /v1/client/
// routes: restart, signal, exec, stats. Each fails with ErrNotFound when
// the allocation is not running here, so the API can forward the request
// to the node that runs it.

// runner returns the runner of an allocation running on this client.
func (c *Client) runner(allocID string) (*allocrunner.AllocRunner, error) {
	c.mu.Lock()
	r := c.runners[allocID]
	c.mu.Unlock()
	if r == nil {
		return nil, structs.NotFound(fmt.Errorf("allocation %q is not running on this client", allocID))
	}
	return r, nil
}

// RestartAlloc restarts one task of the allocation, or all its running
// tasks when task is "".
func (c *Client) RestartAlloc(allocID, task string) error {
	r, err := c.runner(allocID)
	if err != nil {
		return err
	}
	return r.Restart(task)
}

// SignalAlloc sends sig to one task, or to all running tasks when task is "".
func (c *Client) SignalAlloc(ctx context.Context, allocID, task, sig string) error {
	r, err := c.runner(allocID)
	if err != nil {
		return err
	}
	return r.Signal(ctx, task, sig)
}

// ExecAlloc runs a command in a task of the allocation.
func (c *Client) ExecAlloc(ctx context.Context, allocID, task string, opts *driver.ExecOptions) (int, error) {
	r, err := c.runner(allocID)
	if err != nil {
		return 0, err
	}
	return r.Exec(ctx, task, opts)
}

// AllocStats samples the resource usage of one task of the allocation, or
// of all its running tasks when task is "".
func (c *Client) AllocStats(ctx context.Context, allocID, task string) (*structs.AllocResourceUsage, error) {
	r, err := c.runner(allocID)
	if err != nil {
		return nil, err
	}
	return r.Stats(ctx, task, c.mhzPerCore())
}

// mhzPerCore is the speed of one core, to turn a share of a core into MHz.
func (c *Client) mhzPerCore() float64 {
	n := c.Node()
	if n.NodeResources == nil || n.NodeResources.Cpu.TotalCpuCores == 0 {
		return 0
	}
	return float64(n.NodeResources.Cpu.CpuShares) / float64(n.NodeResources.Cpu.TotalCpuCores)
}

// AllocDir returns the directory of an allocation that runs, or ran, on
// this client (its files stay until garbage collection).
func (c *Client) AllocDir(allocID string) (string, error) {
	if allocID == "" || filepath.Base(allocID) != allocID || allocID == "." || allocID == ".." {
		return "", structs.NotFound(fmt.Errorf("allocation %q not found on this client", allocID))
	}
	c.mu.Lock()
	r := c.runners[allocID]
	c.mu.Unlock()
	if r != nil {
		return r.Dir().Dir, nil
	}
	dir := allocdir.New(c.cfg.DataDir, allocID)
	if !dir.Exists() {
		return "", structs.NotFound(fmt.Errorf("allocation %q not found on this client", allocID))
	}
	return dir.Dir, nil
}
