// Package allocdir lays out an allocation's directory on the client:
//
//	<data_dir>/alloc/<alloc_id>/
//	  alloc/          shared by the group's tasks (NOMAD_ALLOC_DIR)
//	  alloc/logs/     every task's stdout and stderr
//	  <task>/local/   the task's own files (NOMAD_TASK_DIR)
//	  <task>/secrets/ the task's secrets, readable by the owner only (NOMAD_SECRETS_DIR)
//
// These are Nomad's names, so operators find logs where they expect them.
//
// With AllocDir.SecretsTmpfs, a task's secrets/ is a small tmpfs
// (SecretsTmpfsSize) mounted on the host when the client runs as root, so
// what is written there never reaches a disk; the drivers bind it into the
// task. Without the right to mount it stays a plain directory, with a
// warning in the log. Destroy unmounts it.
package allocdir

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Directory names inside an allocation, and where tasks see them.
const (
	SharedDirName  = "alloc"
	LogDirName     = "logs"
	LocalDirName   = "local"
	SecretsDirName = "secrets"

	SharedMountPath  = "/alloc"
	LocalMountPath   = "/local"
	SecretsMountPath = "/secrets"
)

// Log types a task writes.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// AllocDir is one allocation's directory.
type AllocDir struct {
	// Dir is <data_dir>/alloc/<alloc_id>.
	Dir string
	// SharedDir is Dir/alloc and LogDir is Dir/alloc/logs.
	SharedDir string
	LogDir    string
	// SecretsTmpfs makes Build mount a tmpfs on each task's secrets/
	// (the client sets it; tests that do not unmount leave it off).
	SecretsTmpfs bool
	// Logger receives the warning that secrets/ could not be a tmpfs;
	// nil means slog.Default().
	Logger *slog.Logger
}

// New names the directory of allocID under dataDir; nothing is created yet.
func New(dataDir, allocID string) *AllocDir {
	dir := filepath.Join(dataDir, "alloc", allocID)
	shared := filepath.Join(dir, SharedDirName)
	return &AllocDir{Dir: dir, SharedDir: shared, LogDir: filepath.Join(shared, LogDirName)}
}

// Build creates the shared directories and one directory per task. It is
// idempotent, so a restarted client can call it on an existing allocation.
func (d *AllocDir) Build(tasks []string) error {
	type dir struct {
		path string
		mode os.FileMode
	}
	dirs := []dir{{d.SharedDir, 0o755}, {d.LogDir, 0o755}}
	for _, t := range tasks {
		if !validTaskName(t) {
			return fmt.Errorf("allocdir: task name %q cannot be a directory name", t)
		}
		td := d.TaskDir(t)
		dirs = append(dirs, dir{td.LocalDir, 0o755}, dir{td.SecretsDir, 0o700})
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir.path, dir.mode); err != nil {
			return fmt.Errorf("allocdir: %w", err)
		}
	}
	if !d.SecretsTmpfs {
		return nil
	}
	for _, t := range tasks {
		err := d.mountSecrets(d.TaskDir(t).SecretsDir)
		if errors.Is(err, errCannotMount) {
			// One warning for the allocation: no task's can be mounted.
			logger := d.Logger
			if logger == nil {
				logger = slog.Default()
			}
			logger.Warn("task secrets directories are plain directories on disk, not tmpfs", "alloc_dir", d.Dir, "reason", err)
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// mountSecrets makes the secrets directory a tmpfs, unless it is one
// already (a restarted client builds again). It returns an error wrapping
// errCannotMount when mounting is not allowed.
func (d *AllocDir) mountSecrets(dir string) error {
	// Two builds at once (a task restarting while another starts) must
	// not both see no mount and stack a second tmpfs on the first.
	mountMu.Lock()
	defer mountMu.Unlock()
	mounted, err := isMountPoint(dir)
	if err != nil {
		return fmt.Errorf("allocdir: %w", err)
	}
	if mounted {
		return nil
	}
	err = mountTmpfs(dir, SecretsTmpfsSize)
	if err != nil && !errors.Is(err, errCannotMount) {
		return fmt.Errorf("allocdir: mount a tmpfs on %s: %w", dir, err)
	}
	return err
}

// TaskDir is one task's part of the allocation directory.
type TaskDir struct {
	Dir        string
	LocalDir   string
	SecretsDir string
}

// TaskDir names the directory of one task.
func (d *AllocDir) TaskDir(task string) TaskDir {
	dir := filepath.Join(d.Dir, task)
	return TaskDir{
		Dir:        dir,
		LocalDir:   filepath.Join(dir, LocalDirName),
		SecretsDir: filepath.Join(dir, SecretsDirName),
	}
}

// LogPath is the index-th file of a task's log of the given type
// ("<task>.stdout.0"); the client writes index 0, rotation adds more.
func (d *AllocDir) LogPath(task, logType string, index int) string {
	return filepath.Join(d.LogDir, task+"."+logType+"."+strconv.Itoa(index))
}

// Exists reports whether the allocation's directory is on disk.
func (d *AllocDir) Exists() bool {
	_, err := os.Stat(d.Dir)
	return err == nil
}

// HasTask reports whether the task's directory is on disk.
func (d *AllocDir) HasTask(task string) bool {
	if !validTaskName(task) {
		return false
	}
	_, err := os.Stat(d.TaskDir(task).Dir)
	return err == nil
}

// validTaskName rejects names that would escape the allocation directory.
func validTaskName(task string) bool {
	return task != "" && task != "." && task != ".." && filepath.Base(task) == task && task != SharedDirName
}

// SecretsTmpfsSize is the size of the tmpfs on each task's secrets/, in
// bytes: 1 MiB, as Nomad's.
const SecretsTmpfsSize = 1 << 20

// errCannotMount wraps why the client may not mount a tmpfs (it is not
// root, or lacks the capability): secrets/ then stays a plain directory.
var errCannotMount = errors.New("mounting a tmpfs needs root (CAP_SYS_ADMIN)")

// geteuid is the client's effective user ID; tests play another user.
var geteuid = os.Geteuid

// SecretsOnTmpfs reports whether the task's secrets/ is a mount point (the
// tmpfs Build mounts).
func (d *AllocDir) SecretsOnTmpfs(task string) (bool, error) {
	if !validTaskName(task) {
		return false, fmt.Errorf("allocdir: task name %q cannot be a directory name", task)
	}
	return isMountPoint(d.TaskDir(task).SecretsDir)
}

// Destroy unmounts every task's secrets/ and removes the whole directory
// (garbage collection).
func (d *AllocDir) Destroy() error {
	if err := d.UnmountSecrets(); err != nil {
		return err
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		return fmt.Errorf("allocdir: %w", err)
	}
	return nil
}

// UnmountSecrets unmounts the tmpfs of every task's secrets/ and leaves
// the rest: what is in them is gone. A dev agent does it on shutdown, as
// its data dir goes away with it.
func (d *AllocDir) UnmountSecrets() error {
	entries, err := os.ReadDir(d.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("allocdir: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == SharedDirName {
			continue
		}
		if err := unmountAll(d.TaskDir(e.Name()).SecretsDir); err != nil {
			return err
		}
	}
	return nil
}

// mountMu serialises checking for a secrets mount and mounting one.
var mountMu sync.Mutex

// unmountAll unmounts dir until nothing is mounted there, so a mount
// stacked by an earlier client version or a race goes too. Bounded: a
// dir that stays a mount point after that many is an error.
func unmountAll(dir string) error {
	mountMu.Lock()
	defer mountMu.Unlock()
	for range 8 {
		mounted, err := isMountPoint(dir)
		if err != nil {
			return fmt.Errorf("allocdir: %w", err)
		}
		if !mounted {
			return nil
		}
		if err := unmount(dir); err != nil {
			return fmt.Errorf("allocdir: unmount %s: %w", dir, err)
		}
	}
	return fmt.Errorf("allocdir: %s is still a mount point after 8 unmounts", dir)
}
