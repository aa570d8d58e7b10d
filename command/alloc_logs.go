package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// defaultTailLines is how many lines -tail shows when -n and -c are not given.
const defaultTailLines = 10

// AllocLogsCommand is "drover alloc logs": print a task's stdout or stderr.
type AllocLogsCommand struct {
	Meta
}

func (c *AllocLogsCommand) Synopsis() string { return "Print the logs of a task" }

func (c *AllocLogsCommand) Help() string {
	return helpText(`
Usage: drover alloc logs [options] <allocation> [task]

  Print the stdout (or stderr) of a task of the allocation with the given
  ID (or unique prefix of one). The task may be left out when the
  allocation's group has only one.

Logs Options:

  -stderr
    Print the task's stderr instead of its stdout.

  -f
    Follow the log: keep printing what the task writes until it finishes
    for good or the command is interrupted.

  -tail
    Print the end of the log rather than all of it: the last 10 lines
    unless -n or -c says otherwise.

  -n=<lines>
    With -tail, how many lines to print from the end.

  -c=<bytes>
    With -tail, how many bytes to print from the end.

  -task=<name>
    The task, instead of giving it as the second argument.

  -job
    Take the first argument as a job ID (or prefix) instead, and read the
    logs of one of its running allocations.

  -verbose
    Show full IDs in messages.`, true)
}

func (c *AllocLogsCommand) Run(args []string) int {
	fs := c.flagSet("alloc logs")
	stderr := fs.Bool("stderr", false, "")
	follow := fs.Bool("f", false, "")
	tail := fs.Bool("tail", false, "")
	lines := fs.Int("n", -1, "")
	numBytes := fs.Int64("c", -1, "")
	taskFlag := fs.String("task", "", "")
	byJob := fs.Bool("job", false, "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("alloc logs", "This command takes one or two arguments: <allocation> [task]")
	}
	if (*lines >= 0 || *numBytes >= 0) && !*tail {
		return c.usageError("alloc logs", "-n and -c need -tail")
	}
	task := *taskFlag
	if fs.NArg() == 2 {
		task = fs.Arg(1)
	}

	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	var alloc *structs.Allocation
	if *byJob {
		if alloc, err = runningAllocOfJob(client, fs.Arg(0)); err != nil {
			c.UI.Error(err.Error())
			return exitError
		}
	} else {
		var ok bool
		if alloc, ok = c.resolveAlloc(client, fs.Arg(0)); !ok {
			return exitError
		}
	}
	tasks := taskNames(alloc)
	switch {
	case task != "" && !slices.Contains(tasks, task):
		c.UI.Error(fmt.Sprintf("Allocation %q has no task %q. Its tasks are: %s", shortID(alloc.ID, *verbose), task, strings.Join(tasks, ", ")))
		return exitError
	case task == "" && len(tasks) == 1:
		task = tasks[0]
	case task == "":
		c.UI.Error(fmt.Sprintf("Allocation %q is running the following tasks:\n  * %s\n\nPlease specify the task.",
			shortID(alloc.ID, *verbose), strings.Join(tasks, "\n  * ")))
		return exitError
	}

	logType := "stdout"
	if *stderr {
		logType = "stderr"
	}
	ctx, stop := interruptible(c.ctx())
	defer stop()
	r := &logReader{client: client, allocID: alloc.ID, task: task, logType: logType, q: (&api.QueryOptions{}).WithContext(ctx), out: c.Stdout}
	switch {
	case !*tail:
		err = r.copy(api.OriginStart, 0, *follow)
	case *numBytes >= 0:
		err = r.copy(api.OriginEnd, *numBytes, *follow)
	default:
		n := *lines
		if n < 0 {
			n = defaultTailLines
		}
		err = r.tailLines(n, *follow)
	}
	if err != nil && ctx.Err() == nil {
		c.UI.Error(fmt.Sprintf("Error reading logs: %v", err))
		return exitError
	}
	return exitOK
}

// logReader copies one task log to out.
type logReader struct {
	client                 *api.Client
	allocID, task, logType string
	q                      *api.QueryOptions
	out                    io.Writer
}

// copy prints the log from offset bytes after origin, following if asked.
func (r *logReader) copy(origin string, offset int64, follow bool) error {
	s, err := r.client.AllocFS().Logs(r.allocID, r.task, r.logType, follow, origin, offset, r.q)
	if err != nil {
		return err
	}
	defer s.Close()
	_, err = io.Copy(r.out, s)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// tailLines prints the last n lines, then follows from where they end if
// asked. It reads a window back from the end, widening it until it holds
// n whole lines or the whole log.
func (r *logReader) tailLines(n int, follow bool) error {
	window := int64(max(n, 1)) * 128
	for {
		s, err := r.client.AllocFS().Logs(r.allocID, r.task, r.logType, false, api.OriginEnd, window, r.q)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(s)
		s.Close()
		if err != nil {
			return err
		}
		last, complete := lastLines(data, n)
		if complete || int64(len(data)) < window {
			if _, err := r.out.Write(last); err != nil {
				return err
			}
			if !follow {
				return nil
			}
			return r.copy(api.OriginStart, s.Offset(), true)
		}
		window *= 4
	}
}

// lastLines returns the last n lines of data, and whether data held more
// than that, so that the first of them is surely whole.
func lastLines(data []byte, n int) ([]byte, bool) {
	if n <= 0 {
		return nil, true
	}
	body := bytes.TrimSuffix(data, []byte("\n"))
	cut := len(body)
	for range n {
		i := bytes.LastIndexByte(body[:cut], '\n')
		if i < 0 {
			return data, false
		}
		cut = i
	}
	return data[cut+1:], true
}
