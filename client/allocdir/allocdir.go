// Package allocdir lays out an allocation's directory on the client:
//
//	<data_dir>/alloc/<alloc_id>/
//	  alloc/          shared by the group's tasks (NOMAD_ALLOC_DIR)
//	  alloc/logs/     every task's stdout and stderr
//	  <task>/local/   the task's own files (NOMAD_TASK_DIR)
//	  <task>/secrets/ the task's secrets, readable by the owner only (NOMAD_SECRETS_DIR)
//
// These are Nomad's names, so operators find logs where they expect them.
package allocdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
	return nil
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

// Destroy removes the whole directory (garbage collection).
func (d *AllocDir) Destroy() error {
	if err := os.RemoveAll(d.Dir); err != nil {
		return fmt.Errorf("allocdir: %w", err)
	}
	return nil
}
