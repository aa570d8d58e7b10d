package command

import (
	"fmt"

	"github.com/hashicorp/cli"
)

func init() {
	Register("server join", func(m Meta) cli.Command { return &ServerJoinCommand{Meta: m} })
}

// ServerJoinCommand is "drover server join".
type ServerJoinCommand struct{ Meta }

func (c *ServerJoinCommand) Synopsis() string { return "Join a server to other servers" }

func (c *ServerJoinCommand) Help() string {
	return helpText(`
Usage: drover server join [options] <address> [<address>...]

  Ask the agent's server to join the gossip pool of the servers at the given
  addresses ("host" or "host:port"; the port defaults to 4748). One server
  that answers is enough: gossip introduces the rest. Once in the pool, the
  cluster's leader adds the server to the Raft configuration.`, true)
}

func (c *ServerJoinCommand) Run(args []string) int {
	fs := c.flagSet("server join")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() == 0 {
		return c.usageError("server join", "This command takes at least one argument: <address>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	n, err := client.Agent().Join(fs.Args()...)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error joining: %v", err))
		return exitError
	}
	c.UI.Output(fmt.Sprintf("Joined %d servers successfully", n))
	return exitOK
}
