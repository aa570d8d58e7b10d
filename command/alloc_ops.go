package command

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// The commands that act on a live allocation: restart, stop, signal, fs
// and exec (alloc_exec.go). They share how an allocation and its task are
// found.

func init() {
	Register("alloc restart", func(m Meta) cli.Command { return &AllocRestartCommand{Meta: m} })
	Register("alloc stop", func(m Meta) cli.Command { return &AllocStopCommand{Meta: m} })
	Register("alloc signal", func(m Meta) cli.Command { return &AllocSignalCommand{Meta: m} })
	Register("alloc fs", func(m Meta) cli.Command { return &AllocFSCommand{Meta: m} })
	Register("alloc exec", func(m Meta) cli.Command { return &AllocExecCommand{Meta: m} })
}

// allocTaskArgs reads "<allocation> [task]" (the task may also come from
// -task), resolves the allocation and checks the task is one of it.
func (m *Meta) allocTaskArgs(args []string, task *string, verbose bool) (*api.Client, *structs.Allocation, bool) {
	if len(args) == 2 {
		*task = args[1]
	}
	client, err := m.client()
	if err != nil {
		m.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return nil, nil, false
	}
	alloc, ok := m.resolveAlloc(client, args[0])
	if !ok || !m.checkTask(alloc, *task, verbose) {
		return nil, nil, false
	}
	return client, alloc, true
}

// resolveAlloc finds the allocation named by an ID or unique prefix.
func (m *Meta) resolveAlloc(client *api.Client, prefix string) (*structs.Allocation, bool) {
	stub, err := client.Allocations().Resolve(prefix, nil)
	if err != nil {
		m.UI.Error(resolveError("allocation", err))
		return nil, false
	}
	alloc, _, err := client.Allocations().Info(stub.ID, nil)
	if err != nil {
		m.UI.Error(fmt.Sprintf("Error reading allocation %q: %v", stub.ID, err))
		return nil, false
	}
	return alloc, true
}

// checkTask checks that the allocation has the named task ("" passes).
func (m *Meta) checkTask(alloc *structs.Allocation, task string, verbose bool) bool {
	tasks := taskNames(alloc)
	if task == "" || slices.Contains(tasks, task) {
		return true
	}
	m.UI.Error(fmt.Sprintf("Allocation %q has no task %q. Its tasks are: %s", shortID(alloc.ID, verbose), task, strings.Join(tasks, ", ")))
	return false
}

// AllocRestartCommand is "drover alloc restart".
type AllocRestartCommand struct{ Meta }

func (c *AllocRestartCommand) Synopsis() string { return "Restart a running allocation or task" }

func (c *AllocRestartCommand) Help() string {
	return helpText(`
Usage: drover alloc restart [options] <allocation> [task]

  Restart the running tasks of the allocation with the given ID (or unique
  prefix of one), or only the named task, in place: each gets its kill
  signal and, after its kill timeout, is killed, then starts again at once.
  A restart asked for this way does not count against the restart policy.

Restart Options:

  -task=<name>
    The task to restart, instead of giving it as the second argument.

  -verbose
    Show full IDs.`, true)
}

func (c *AllocRestartCommand) Run(args []string) int {
	fs := c.flagSet("alloc restart")
	task := fs.String("task", "", "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("alloc restart", "This command takes one or two arguments: <allocation> [task]")
	}
	client, alloc, ok := c.allocTaskArgs(fs.Args(), task, *verbose)
	if !ok {
		return exitError
	}
	if err := client.Allocations().Restart(alloc.ID, *task); err != nil {
		c.UI.Error(fmt.Sprintf("Failed to restart allocation: %v", err))
		return exitError
	}
	what := "Allocation"
	if *task != "" {
		what = fmt.Sprintf("Task %q of allocation", *task)
	}
	c.UI.Output(fmt.Sprintf("%s %q restarted", what, shortID(alloc.ID, *verbose)))
	return exitOK
}

// AllocStopCommand is "drover alloc stop".
type AllocStopCommand struct{ Meta }

func (c *AllocStopCommand) Synopsis() string { return "Stop and reschedule a running allocation" }

func (c *AllocStopCommand) Help() string {
	return helpText(`
Usage: drover alloc stop [options] <allocation>

  Stop the allocation with the given ID (or unique prefix of one) and have
  the scheduler replace it, as Nomad's alloc stop does: the allocation is
  marked to migrate, an evaluation of its job stops it and places a new
  one. The command follows that evaluation.

Stop Options:

  -detach
    Print the evaluation ID and return at once, without following it.

  -no-shutdown-delay
    Stop the tasks without waiting out their shutdown_delay.

  -verbose
    Show full IDs.`, true)
}

func (c *AllocStopCommand) Run(args []string) int {
	fs := c.flagSet("alloc stop")
	detach := fs.Bool("detach", false, "")
	noDelay := fs.Bool("no-shutdown-delay", false, "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("alloc stop", "This command takes one argument: <allocation>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	alloc, ok := c.resolveAlloc(client, fs.Arg(0))
	if !ok {
		return exitError
	}
	resp, err := client.Allocations().Stop(alloc.ID, *noDelay)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error stopping allocation: %v", err))
		return exitError
	}
	if *detach {
		c.UI.Output(resp.EvalID)
		return exitOK
	}
	ctx, stop := interruptible(c.ctx())
	defer stop()
	mon := &monitor{meta: &c.Meta, client: client, verbose: *verbose}
	return mon.run(ctx, resp.EvalID)
}

// AllocSignalCommand is "drover alloc signal".
type AllocSignalCommand struct{ Meta }

func (c *AllocSignalCommand) Synopsis() string {
	return "Send a signal to a running allocation or task"
}

func (c *AllocSignalCommand) Help() string {
	return helpText(`
Usage: drover alloc signal [options] <allocation> [task]

  Send a signal to the running tasks of the allocation with the given ID
  (or unique prefix of one), or only to the named task.

Signal Options:

  -s=<signal>
    The signal to send, by name (SIGHUP, HUP) or number. Defaults to SIGKILL.

  -task=<name>
    The task to signal, instead of giving it as the second argument.

  -verbose
    Show full IDs.`, true)
}

func (c *AllocSignalCommand) Run(args []string) int {
	fs := c.flagSet("alloc signal")
	sig := fs.String("s", "", "")
	task := fs.String("task", "", "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("alloc signal", "This command takes one or two arguments: <allocation> [task]")
	}
	client, alloc, ok := c.allocTaskArgs(fs.Args(), task, *verbose)
	if !ok {
		return exitError
	}
	if err := client.Allocations().Signal(alloc.ID, *task, *sig); err != nil {
		c.UI.Error(fmt.Sprintf("Error signalling allocation: %v", err))
		return exitError
	}
	return exitOK
}
