package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-project/drover/client/allocrunner"
	"github.com/drover-project/drover/structs"
)

// allocQueryWait is how long one blocking query for allocations may wait.
const allocQueryWait = 5 * time.Minute

// allocLoop asks the servers for this node's allocations (a blocking query
// that answers when they change) and makes the runners match. It returns,
// once every runner has returned, when ctx ends.
func (c *Client) allocLoop(ctx context.Context) {
	var runners sync.WaitGroup
	defer runners.Wait()
	select {
	case <-c.registered:
	case <-ctx.Done():
		return
	}
	var index uint64
	swept := false
	retry := newBackoff(minRetry, maxRetry)
	for {
		allocs, next, err := c.servers.NodeAllocations(ctx, c.nodeID, index, allocQueryWait)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			delay := retry.next()
			c.logger.Warn("failed to get allocations", "error", err, "retry_in", delay)
			t := c.clock.NewTimer(delay)
			select {
			case <-t.C():
			case <-ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		retry.reset()
		index = next
		first := !swept
		var keep map[string]bool
		if first {
			keep = c.knownAllocs(allocs)
		}
		c.syncAllocs(ctx, allocs, &runners)
		if first {
			swept = true
			c.removeOrphanContainers(ctx, keep) // orphans.go
			c.markInitialized()                 // node.go
		}
	}
}

// syncAllocs makes the runners match the servers' list: start the new,
// update the changed, destroy those no longer listed.
func (c *Client) syncAllocs(ctx context.Context, allocs []*structs.Allocation, runners *sync.WaitGroup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	listed := make(map[string]bool, len(allocs))
	for _, a := range allocs {
		listed[a.ID] = true
		if r, ok := c.runners[a.ID]; ok {
			if a.AllocModifyIndex != c.runIndex[a.ID] {
				c.runIndex[a.ID] = a.AllocModifyIndex
				r.Update(a)
			}
			continue
		}
		_, wasRunning := c.restored[a.ID]
		// An allocation that ended, or that the servers stopped before this
		// client ever ran it, has nothing to run. One this client was running
		// before a restart still needs its tasks stopped.
		if a.ClientTerminal() || (a.ServerTerminal() && !wasRunning) {
			continue
		}
		c.startRunner(ctx, a, runners)
	}

	for id, r := range c.runners {
		if listed[id] {
			continue
		}
		delete(c.runners, id)
		delete(c.runIndex, id)
		c.updates.forget(id)
		runners.Go(func() {
			if err := r.Destroy(ctx); err != nil {
				c.logger.Error("failed to destroy allocation", "alloc_id", id, "error", err)
			}
		})
	}

	// What an earlier process ran and no runner took over is removed.
	for id, a := range c.restored {
		if _, ok := c.runners[id]; ok {
			continue
		}
		runners.Go(func() { c.destroyOrphan(ctx, a) })
	}
	clear(c.restored)
}

// startRunner creates and runs the runner of a newly listed allocation.
// Called with c.mu held.
func (c *Client) startRunner(ctx context.Context, a *structs.Allocation, runners *sync.WaitGroup) {
	r, err := allocrunner.New(allocrunner.Config{
		Alloc:   a,
		Node:    c.node.Copy(),
		HostIP:  c.cfg.HostIP,
		Drivers: c.drivers,
		DataDir: c.cfg.DataDir,
		// secrets/ on a tmpfs (client/allocdir).
		SecretsTmpfs: c.cfg.SecretsTmpfs,
		Store:        c.db,
		Clock:        c.clock,
		Logger:       c.logger,
		OnUpdate:     c.updates.add,
		// Service instances go to the catalog and the servers (services.go).
		Services: c.services,
		// A sticky disk waits for the allocation it replaces.
		PreviousDone: c.allocDone,
	})
	if err != nil {
		// Report it: a server waiting on this allocation should know.
		c.logger.Error("cannot run allocation", "alloc_id", a.ID, "error", err)
		c.updates.add(&structs.Allocation{
			ID:                a.ID,
			ClientStatus:      structs.AllocClientStatusFailed,
			ClientDescription: fmt.Sprintf("client could not run the allocation: %v", err),
		})
		return
	}
	c.runners[a.ID] = r
	c.runIndex[a.ID] = a.AllocModifyIndex
	runners.Go(func() { r.Run(ctx) })
}

// destroyOrphan removes the tasks of an allocation that an earlier client
// process ran and the servers no longer want here.
func (c *Client) destroyOrphan(ctx context.Context, a *structs.Allocation) {
	tasks, err := c.db.Tasks(a.ID)
	if err != nil {
		c.logger.Error("failed to read orphaned allocation", "alloc_id", a.ID, "error", err)
		return
	}
	for name, rec := range tasks {
		if rec.Handle == nil {
			continue
		}
		d, ok := c.drivers[rec.Handle.Driver]
		if !ok {
			c.logger.Error("no driver for orphaned task", "alloc_id", a.ID, "task", name, "driver", rec.Handle.Driver)
			continue
		}
		if err := d.DestroyTask(ctx, rec.Handle, true); err != nil {
			c.logger.Warn("failed to destroy orphaned task", "alloc_id", a.ID, "task", name, "error", err)
		}
	}
	c.destroyOrphanNetwork(ctx, a.ID)
	if err := c.db.DeleteAllocation(a.ID); err != nil {
		c.logger.Error("failed to forget orphaned allocation", "alloc_id", a.ID, "error", err)
	}
}
