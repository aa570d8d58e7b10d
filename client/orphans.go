package client

import (
	"context"

	"github.com/drover-project/drover/structs"
)

// orphanRemover is a driver that can find the containers this node's
// client made and remove those of allocations it no longer knows (the
// docker driver). A client killed between creating a container and
// recording it, or whose state was lost, leaves such containers behind.
type orphanRemover interface {
	RemoveOrphans(ctx context.Context, keep func(allocID string) bool) ([]string, error)
}

// removeOrphanContainers runs once, after the first answer from the
// servers: keep holds every allocation the servers list for this node and
// every one an earlier process recorded (those are re-attached or
// destroyed through their runners).
func (c *Client) removeOrphanContainers(ctx context.Context, keep map[string]bool) {
	for name, d := range c.drivers {
		r, ok := d.(orphanRemover)
		if !ok {
			continue
		}
		removed, err := r.RemoveOrphans(ctx, func(id string) bool { return keep[id] })
		if err != nil {
			c.logger.Warn("failed to remove orphaned containers", "driver", name, "error", err)
		}
		if len(removed) > 0 {
			c.logger.Info("removed containers of unknown allocations", "driver", name, "containers", removed)
		}
	}
}

// knownAllocs are the allocations listed by the servers or restored from
// the client state. Call before syncAllocs, which forgets the restored ones.
func (c *Client) knownAllocs(listed []*structs.Allocation) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := make(map[string]bool, len(listed)+len(c.restored)+len(c.runners))
	for _, a := range listed {
		keep[a.ID] = true
	}
	for id := range c.restored {
		keep[id] = true
	}
	for id := range c.runners {
		keep[id] = true
	}
	return keep
}
