package client

import (
	"cmp"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/allocrunner"
	"github.com/drover-project/drover/structs"
)

// GCConfig is the client's garbage collection policy for terminal
// allocations, as Nomad's client block: every Interval, and whenever
// more than MaxAllocs allocations are kept, the oldest terminal ones are
// removed (their runner, state and directory with its logs) until at most
// MaxAllocs are kept and the data dir's disk is used below
// DiskUsageThreshold percent. Running allocations are never collected.
type GCConfig struct {
	Interval           time.Duration
	MaxAllocs          int
	DiskUsageThreshold float64
}

// Nomad's defaults.
const (
	DefaultGCInterval           = time.Minute
	DefaultGCMaxAllocs          = 50
	DefaultGCDiskUsageThreshold = 80
)

func (g GCConfig) withDefaults() GCConfig {
	if g.Interval <= 0 {
		g.Interval = DefaultGCInterval
	}
	if g.MaxAllocs <= 0 {
		g.MaxAllocs = DefaultGCMaxAllocs
	}
	if g.DiskUsageThreshold <= 0 {
		g.DiskUsageThreshold = DefaultGCDiskUsageThreshold
	}
	return g
}

// gcLoop collects terminal allocations every interval until ctx ends. It
// ticks on the wall clock, not c.clock: nothing waits on its timing
// (tests call CollectGarbage), and the fake clock's tests count the
// timers of heartbeats and fingerprints.
func (c *Client) gcLoop(ctx context.Context) {
	policy := c.cfg.GC.withDefaults()
	t := time.NewTicker(policy.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if n, err := c.CollectGarbage(ctx); err != nil {
			c.logger.Warn("client garbage collection failed", "error", err)
		} else if n > 0 {
			c.logger.Info("garbage collected terminal allocations", "count", n)
		}
	}
}

// diskUsedPercent is how full the file system of dir is; a variable so
// that tests can fill the disk.
var diskUsedPercent = func(dir string) (float64, error) {
	d, err := diskStats(dir)
	if err != nil {
		return 0, err
	}
	return d.UsedPercent, nil
}

// CollectGarbage applies the policy once and returns how many allocations
// it removed. Directories of allocations that no runner and no saved state
// know any more (destroyed earlier, or left by an earlier process) are
// removed too.
func (c *Client) CollectGarbage(ctx context.Context) (int, error) {
	policy := c.cfg.GC.withDefaults()
	var errs []error
	removed := 0

	// Terminal runners, oldest finished first.
	c.mu.Lock()
	kept := len(c.runners)
	var terminal []*allocrunner.AllocRunner
	for id, r := range c.runners {
		select {
		case <-r.Done():
			// Its last status must reach the servers first: a server
			// copy that is not terminal would start it again.
			if !c.updates.hasPending(id) {
				terminal = append(terminal, r)
			}
		default:
		}
	}
	c.mu.Unlock()
	slices.SortFunc(terminal, func(x, y *allocrunner.AllocRunner) int {
		return cmp.Or(cmp.Compare(finishedAt(x.Alloc()), finishedAt(y.Alloc())), cmp.Compare(x.ID(), y.ID()))
	})
	for _, r := range terminal {
		full := false
		if kept <= policy.MaxAllocs {
			used, err := diskUsedPercent(c.cfg.DataDir)
			if err != nil {
				errs = append(errs, err)
				break
			}
			full = used >= policy.DiskUsageThreshold
		}
		if kept <= policy.MaxAllocs && !full {
			break
		}
		if err := c.collect(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		kept--
		removed++
	}

	n, err := c.removeUnknownAllocDirs()
	return removed + n, errors.Join(append(errs, err)...)
}

// collect forgets one finished runner and removes its directory.
func (c *Client) collect(ctx context.Context, r *allocrunner.AllocRunner) error {
	id := r.ID()
	c.mu.Lock()
	if c.runners[id] != r {
		c.mu.Unlock()
		return nil // replaced or destroyed meanwhile
	}
	delete(c.runners, id)
	delete(c.runIndex, id)
	c.updates.forget(id)
	c.mu.Unlock()
	if err := r.Destroy(ctx); err != nil {
		return err
	}
	return r.Dir().Destroy()
}

// removeUnknownAllocDirs removes allocation directories that neither a
// runner, an allocation restored at start, nor the saved state knows.
func (c *Client) removeUnknownAllocDirs() (int, error) {
	root := filepath.Join(c.cfg.DataDir, "alloc")
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	saved, err := c.db.Allocations()
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, a := range saved {
		known[a.ID] = true
	}
	c.mu.Lock()
	for id := range c.runners {
		known[id] = true
	}
	for id := range c.restored {
		known[id] = true
	}
	c.mu.Unlock()
	removed := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || known[e.Name()] {
			continue
		}
		if err := allocdir.New(c.cfg.DataDir, e.Name()).Destroy(); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// finishedAt is when the allocation's last task ended, in Unix nanoseconds.
func finishedAt(a *structs.Allocation) int64 {
	var last int64
	for _, ts := range a.TaskStates {
		if ts != nil && ts.FinishedAt.UnixNano() > last {
			last = ts.FinishedAt.UnixNano()
		}
	}
	return last
}

// hasPending reports whether an update of the allocation waits to be sent.
func (b *updateBatcher) hasPending(allocID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.pending[allocID]
	return ok
}
