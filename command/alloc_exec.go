package command

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// AllocExecCommand is "drover alloc exec": run a command inside a task of
// a running allocation, with its input, output and exit code.
type AllocExecCommand struct{ Meta }

func (c *AllocExecCommand) Synopsis() string { return "Execute commands in a task" }

func (c *AllocExecCommand) Help() string {
	return helpText(`
Usage: drover alloc exec [options] <allocation> <command> [<args>...]

  Run a command inside a task of the allocation with the given ID (or
  unique prefix of one), through the agent's exec websocket (any agent
  forwards it to the client that runs the allocation). The command's output
  is printed and drover exits with its exit code.

    $ drover alloc exec -task web 8ba85cef /app echo hello

Exec Options:

  -task=<name>
    The task to run the command in. May be left out when the allocation's
    group has only one task.

  -job
    Take the first argument as a job ID (or prefix) instead, and run in one
    of its running allocations.

  -i
    Pass stdin to the command. Defaults to true; -i=false closes its input.

  -t
    Give the command a terminal. Defaults to true when stdin and stdout are
    terminals; the local terminal is then put in raw mode.

  -verbose
    Show full IDs in messages.`, true)
}

func (c *AllocExecCommand) Run(args []string) int {
	fs := c.flagSet("alloc exec")
	task := fs.String("task", "", "")
	byJob := fs.Bool("job", false, "")
	stdinOn := fs.Bool("i", true, "")
	tty := fs.Bool("t", stdinIsTerminal(c.Stdin) && isTerminal(c.Stdout), "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() < 2 {
		return c.usageError("alloc exec", "This command takes at least two arguments: <allocation> <command> [<args>...]")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	var alloc *structs.Allocation
	if *byJob {
		alloc, err = runningAllocOfJob(client, fs.Arg(0))
		if err != nil {
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
	case *task == "" && len(tasks) == 1:
		*task = tasks[0]
	case *task == "":
		c.UI.Error(fmt.Sprintf("Allocation %q runs several tasks; say which with -task:\n  * %s",
			shortID(alloc.ID, *verbose), strings.Join(tasks, "\n  * ")))
		return exitError
	case !c.checkTask(alloc, *task, *verbose):
		return exitError
	}

	ctx, stop := interruptible(c.ctx())
	defer stop()
	req := &api.ExecRequest{Task: *task, Command: fs.Args()[1:], Tty: *tty, Stdout: c.Stdout, Stderr: c.Stderr}
	if *stdinOn {
		req.Stdin = c.Stdin
	}
	if *tty {
		restore, resize, err := rawTerminal(c.Stdin, c.Stdout)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error setting up the terminal: %v", err))
			return exitError
		}
		defer restore()
		req.Resize = resize
	}
	code, err := client.Allocations().Exec(ctx, alloc.ID, req)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error executing command: %v", err))
		return exitError
	}
	return code
}

// runningAllocOfJob picks a running allocation of the job (or prefix).
func runningAllocOfJob(client *api.Client, prefix string) (*structs.Allocation, error) {
	stub, err := client.Jobs().Resolve(prefix, nil)
	if err != nil {
		return nil, fmt.Errorf("%s", resolveError("job", err))
	}
	allocs, _, err := client.Jobs().Allocations(stub.ID, false, nil)
	if err != nil {
		return nil, fmt.Errorf("Error listing allocations of job %q: %v", stub.ID, err)
	}
	for _, a := range allocs {
		if a.ClientStatus == structs.AllocClientStatusRunning {
			alloc, _, err := client.Allocations().Info(a.ID, nil)
			return alloc, err
		}
	}
	return nil, fmt.Errorf("job %q has no running allocation", stub.ID)
}

// stdinIsTerminal reports whether r is a terminal.
func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminalFd(int(f.Fd()))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminalFd(int(f.Fd()))
}

// rawTerminal puts the local terminal in raw mode, so keys reach the
// remote command as typed, and reports its size now and on each SIGWINCH.
func rawTerminal(in io.Reader, out io.Writer) (restore func(), resize <-chan structs.TerminalSize, err error) {
	f, ok := in.(*os.File)
	if !ok {
		return func() {}, nil, nil
	}
	fd := int(f.Fd())
	undo, err := makeRaw(fd)
	if err != nil {
		return nil, nil, err
	}
	sizes := make(chan structs.TerminalSize, 1)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	done := make(chan struct{})
	outFd := fd
	if o, ok := out.(*os.File); ok {
		outFd = int(o.Fd())
	}
	go func() {
		defer close(sizes)
		for {
			if h, w, err := terminalSize(outFd); err == nil {
				select {
				case sizes <- structs.TerminalSize{Height: h, Width: w}:
				default:
				}
			}
			select {
			case <-winch:
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
		undo()
	}, sizes, nil
}
