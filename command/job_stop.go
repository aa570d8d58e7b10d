package command

import (
	"fmt"
	"strings"
)

// JobStopCommand is "drover job stop": stop a job's allocations, and with
// -purge forget the job.
type JobStopCommand struct {
	Meta
}

func (c *JobStopCommand) Synopsis() string { return "Stop a running job" }

func (c *JobStopCommand) Help() string {
	return helpText(`
Usage: drover job stop [options] <job>

  Stop the job with the given ID (or unique prefix of one) and follow the
  evaluation that stops its allocations. When the argument is only a prefix
  of the job's ID, the command asks for confirmation first.

Stop Options:

  -purge
    Also forget the job, rather than keeping it as stopped.

  -detach
    Print the evaluation ID and return at once, without following it.

  -yes
    Do not ask for confirmation.

  -verbose
    Show full IDs.`, true)
}

func (c *JobStopCommand) Run(args []string) int {
	fs := c.flagSet("job stop")
	purge := fs.Bool("purge", false, "")
	detach := fs.Bool("detach", false, "")
	yes := fs.Bool("yes", false, "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job stop", "This command takes one argument: <job>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	stub, err := client.Jobs().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(resolveError("job", err))
		return exitError
	}
	// A prefix could name another job than the user meant: ask.
	if stub.ID != fs.Arg(0) && !*yes {
		answer, err := c.UI.Ask(fmt.Sprintf("Are you sure you want to stop job %q? [y/N]", stub.ID))
		if err != nil {
			c.UI.Error(fmt.Sprintf("Failed to read confirmation: %v", err))
			return exitError
		}
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "y", "yes":
		default:
			c.UI.Output("Cancelling job stop")
			return exitOK
		}
	}

	resp, err := client.Jobs().Deregister(stub.ID, *purge)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error deregistering job: %v", err))
		return exitError
	}
	if resp.EvalID == "" {
		return exitOK // nothing was running: there is nothing to follow
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
