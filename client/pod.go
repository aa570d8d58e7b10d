package client

import (
	"context"

	"github.com/drover-project/drover/client/driver"
)

// allocDone returns the Done channel of the runner of allocID, or nil when
// this client does not run that allocation. An allocation with a sticky
// ephemeral disk waits on it before taking over the data.
func (c *Client) allocDone(allocID string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.runners[allocID]; r != nil {
		return r.Done()
	}
	return nil
}

// destroyOrphanNetwork removes the group network an orphaned allocation
// may have left (a bridge group's infra container). Drivers without group
// networks, or with none for the allocation, have nothing to do.
func (c *Client) destroyOrphanNetwork(ctx context.Context, allocID string) {
	for name, d := range c.drivers {
		nd, ok := d.(driver.GroupNetworkDriver)
		if !ok {
			continue
		}
		if err := nd.DestroyGroupNetwork(ctx, allocID); err != nil {
			c.logger.Warn("failed to remove orphaned group network", "alloc_id", allocID, "driver", name, "error", err)
		}
	}
}
