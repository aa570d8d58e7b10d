package allocrunner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/structs"
)

// An allocation that replaces another on the same node takes over its
// data when the group's ephemeral_disk is sticky (or migrate): the
// previous allocation's shared directory (but its logs) and each task's
// local/ directory move into the new allocation before any task starts.
// The move waits for the previous allocation's tasks to be dead, so no
// task of it writes to the data while it moves. Across nodes nothing is
// copied: migrate is honoured within one node only.

// takeOverPreviousData moves the previous allocation's data, when there
// is any to take on this node.
func (ar *AllocRunner) takeOverPreviousData(ctx context.Context) error {
	prevID := ar.cfg.Alloc.PreviousAllocation
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	disk := tg.EphemeralDisk
	if prevID == "" || disk == nil || !disk.Sticky && !disk.Migrate || ar.anyTaskStarted() {
		return nil
	}
	prev := allocdir.New(ar.cfg.DataDir, prevID)
	if !prev.Exists() {
		return nil // placed elsewhere, or already collected
	}
	if ar.cfg.PreviousDone != nil {
		if done := ar.cfg.PreviousDone(prevID); done != nil {
			ar.logger.Info("waiting for the previous allocation to stop before taking its data", "previous", prevID)
			select {
			case <-done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if err := moveChildren(prev.SharedDir, ar.dir.SharedDir, allocdir.LogDirName); err != nil {
		return fmt.Errorf("taking over the data of allocation %s: %w", prevID, err)
	}
	for _, tr := range ar.tasks {
		from, to := prev.TaskDir(tr.Name()).LocalDir, ar.dir.TaskDir(tr.Name()).LocalDir
		if err := moveChildren(from, to, ""); err != nil {
			return fmt.Errorf("taking over the data of allocation %s: %w", prevID, err)
		}
	}
	ar.logger.Info("took over the previous allocation's data", "previous", prevID)
	return nil
}

// moveChildren renames every entry of from into to, but skip and names
// that to already has. A missing from has nothing to move.
func moveChildren(from, to, skip string) error {
	entries, err := os.ReadDir(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == skip {
			continue
		}
		dst := filepath.Join(to, e.Name())
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := os.Rename(filepath.Join(from, e.Name()), dst); err != nil {
			return err
		}
	}
	return nil
}

func (ar *AllocRunner) anyTaskStarted() bool {
	for _, tr := range ar.tasks {
		if s := tr.State(); s.State == structs.TaskStateDead || !s.StartedAt.IsZero() {
			return true
		}
	}
	return false
}
