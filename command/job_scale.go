package command

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/cli"
)

func init() {
	Register("job scale", func(m Meta) cli.Command { return &JobScaleCommand{Meta: m} })
}

// JobScaleCommand is "drover job scale": change a group's count.
type JobScaleCommand struct {
	Meta
}

func (c *JobScaleCommand) Synopsis() string { return "Change the count of a job's group" }

func (c *JobScaleCommand) Help() string {
	return helpText(`
Usage: drover job scale [options] <job> [<group>] <count>

  Set the count of one group of the job, as a new version of the job, and
  follow the evaluation that schedules it. The group may be left out when
  the job has only one. Exit codes as "drover job run".

Scale Options:

  -detach
    Print the evaluation ID and return at once.

  -verbose
    Show full IDs.`, true)
}

func (c *JobScaleCommand) Run(args []string) int {
	fs := c.flagSet("job scale")
	detach := fs.Bool("detach", false, "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	var group, countArg string
	switch fs.NArg() {
	case 2:
		countArg = fs.Arg(1)
	case 3:
		group, countArg = fs.Arg(1), fs.Arg(2)
	default:
		return c.usageError("job scale", "This command takes two or three arguments: <job> [<group>] <count>")
	}
	count, err := strconv.ParseInt(countArg, 10, 64)
	if err != nil || count < 0 {
		return c.usageError("job scale", fmt.Sprintf("The count must be a whole number of at least 0, got %q", countArg))
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
	resp, err := client.Jobs().Scale(stub.ID, group, count, "submitted using the drover CLI")
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error scaling job: %v", err))
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
