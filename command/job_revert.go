package command

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/cli"
)

func init() {
	Register("job revert", func(m Meta) cli.Command { return &JobRevertCommand{Meta: m} })
}

// JobRevertCommand is "drover job revert": run an earlier version again.
type JobRevertCommand struct {
	Meta
}

func (c *JobRevertCommand) Synopsis() string { return "Revert to a prior version of the job" }

func (c *JobRevertCommand) Help() string {
	return helpText(`
Usage: drover job revert [options] <job> <version>

  Submit a kept earlier version of the job (see "drover job history") again,
  as its newest version, and follow the evaluation that schedules it.
  Exit codes as "drover job run".

Revert Options:

  -detach
    Print the evaluation ID and return at once.

  -verbose
    Show full IDs.`, true)
}

func (c *JobRevertCommand) Run(args []string) int {
	fs := c.flagSet("job revert")
	detach := fs.Bool("detach", false, "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 2 {
		return c.usageError("job revert", "This command takes two arguments: <job> <version>")
	}
	version, err := strconv.ParseUint(fs.Arg(1), 10, 64)
	if err != nil {
		return c.usageError("job revert", fmt.Sprintf("The version must be a number, got %q", fs.Arg(1)))
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	stub, err := client.Jobs().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error looking up job: %v", err))
		return exitError
	}
	resp, err := client.Jobs().Revert(stub.ID, version, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reverting job: %v", err))
		return exitError
	}
	if *detach || resp.EvalID == "" {
		c.UI.Output(resp.EvalID)
		return exitOK
	}
	ctx, stop := interruptible(c.ctx())
	defer stop()
	mon := &monitor{meta: &c.Meta, client: client, verbose: *verbose}
	return mon.run(ctx, resp.EvalID)
}
