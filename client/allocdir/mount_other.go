//go:build !linux

package allocdir

import (
	"fmt"
	"runtime"
)

// mountTmpfs: tmpfs mounts are made on Linux only.
func mountTmpfs(dir string, size int64) error {
	return fmt.Errorf("%w: not on %s", errCannotMount, runtime.GOOS)
}

func unmount(dir string) error { return nil }

func isMountPoint(dir string) (bool, error) { return false, nil }
