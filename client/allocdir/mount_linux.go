package allocdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size bytes on dir, readable by its owner
// only, with nothing on it executable, setuid or a device. Without root
// (or CAP_SYS_ADMIN) the error wraps errCannotMount.
func mountTmpfs(dir string, size int64) error {
	if uid := geteuid(); uid != 0 {
		return fmt.Errorf("%w: the client runs as uid %d", errCannotMount, uid)
	}
	opts := fmt.Sprintf("size=%d,mode=0700", size)
	err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOEXEC|unix.MS_NOSUID|unix.MS_NODEV, opts)
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w: %v", errCannotMount, err)
	}
	return err
}

// unmount detaches the file system mounted on dir; a container that binds
// it keeps its own reference until it ends.
func unmount(dir string) error {
	err := unix.Unmount(dir, 0)
	if errors.Is(err, unix.EBUSY) {
		err = unix.Unmount(dir, unix.MNT_DETACH)
	}
	return err
}

// isMountPoint reports whether dir is on another device than its parent;
// a missing dir is not one.
func isMountPoint(dir string) (bool, error) {
	var self, parent syscall.Stat_t
	if err := syscall.Lstat(dir, &self); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return false, nil
		}
		return false, &os.PathError{Op: "lstat", Path: dir, Err: err}
	}
	if err := syscall.Lstat(filepath.Dir(dir), &parent); err != nil {
		return false, &os.PathError{Op: "lstat", Path: filepath.Dir(dir), Err: err}
	}
	return self.Dev != parent.Dev, nil
}
