package client

import (
	"fmt"
	"path/filepath"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/logs"
	"github.com/drover-project/drover/structs"
)

// closed is a done channel for tasks that will never write again.
var closed = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// LogReader opens the stdout or stderr log of a task of an allocation that
// runs, or ran, on this client. Following it ends once the task is dead for
// good. Logs of a removed allocation stay readable until its directory is
// garbage collected.
func (c *Client) LogReader(allocID, task, logType string) (*logs.Reader, error) {
	if logType != allocdir.Stdout && logType != allocdir.Stderr {
		return nil, structs.BadRequest(fmt.Errorf("log type must be %q or %q, not %q", allocdir.Stdout, allocdir.Stderr, logType))
	}
	if allocID == "" || filepath.Base(allocID) != allocID || allocID == "." || allocID == ".." {
		return nil, structs.NotFound(fmt.Errorf("allocation %q not found on this client", allocID))
	}
	c.mu.Lock()
	r := c.runners[allocID]
	c.mu.Unlock()

	dir := allocdir.New(c.cfg.DataDir, allocID)
	var done <-chan struct{}
	if r != nil {
		d, ok := r.TaskDone(task)
		if !ok {
			return nil, structs.NotFound(fmt.Errorf("task %q not found in allocation %s", task, allocID))
		}
		done = d
	} else {
		if !dir.Exists() {
			return nil, structs.NotFound(fmt.Errorf("allocation %q not found on this client", allocID))
		}
		if !dir.HasTask(task) {
			return nil, structs.NotFound(fmt.Errorf("task %q not found in allocation %s", task, allocID))
		}
		done = closed
	}
	return logs.NewReader(func(i int) string { return dir.LogPath(task, logType, i) }, done), nil
}
