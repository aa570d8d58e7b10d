package command

import (
	"fmt"

	"github.com/hashicorp/cli"
)

func init() {
	Register("server force-leave", func(m Meta) cli.Command { return &ServerForceLeaveCommand{Meta: m} })
}

// ServerForceLeaveCommand is "drover server force-leave".
type ServerForceLeaveCommand struct {
	Meta
	prune bool
}

func (c *ServerForceLeaveCommand) Synopsis() string {
	return "Force a failed server into the 'left' state"
}

func (c *ServerForceLeaveCommand) Help() string {
	return helpText(`
Usage: drover server force-leave [options] <name>

  Force a failed server into the "left" state, as if it had left on purpose:
  the leader takes it out of the Raft configuration at once, without waiting
  for autopilot's dead-server cleanup. <name> is the member name shown by
  "drover server members" ("s3.global"); the ".region" part may be left out.
  A server that is alive cannot be forced out: stop it first.

Force-Leave Options:

  -prune
    Also remove the server from the member list.`, true)
}

func (c *ServerForceLeaveCommand) Run(args []string) int {
	fs := c.flagSet("server force-leave")
	fs.BoolVar(&c.prune, "prune", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("server force-leave", "This command takes one argument: <name>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	if err := client.Agent().ForceLeave(fs.Arg(0), c.prune); err != nil {
		c.UI.Error(fmt.Sprintf("Error force-leaving server %s: %v", fs.Arg(0), err))
		return exitError
	}
	return exitOK
}
