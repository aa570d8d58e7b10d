package command

import (
	"fmt"

	"github.com/hashicorp/cli"
)

func init() {
	Register("node eligibility", func(m Meta) cli.Command { return &NodeEligibilityCommand{Meta: m} })
}

// NodeEligibilityCommand is "drover node eligibility": whether a node may
// receive new allocations.
type NodeEligibilityCommand struct {
	Meta
}

func (c *NodeEligibilityCommand) Synopsis() string {
	return "Toggle scheduling eligibility for a client node"
}

func (c *NodeEligibilityCommand) Help() string {
	return helpText(`
Usage: drover node eligibility [options] <node>

  Mark a client node eligible or ineligible for new allocations. An
  ineligible node keeps running what it runs; nothing new is placed there.
  A draining node is ineligible until its drain is disabled. The node is
  an ID or a unique prefix of one.

Eligibility Options:

  -enable
    Make the node eligible for new allocations.

  -disable
    Make the node ineligible for new allocations.

  -self
    Act on the node of the local agent.`, true)
}

func (c *NodeEligibilityCommand) Run(args []string) int {
	fs := c.flagSet("node eligibility")
	var enable, disable, self bool
	fs.BoolVar(&enable, "enable", false, "")
	fs.BoolVar(&disable, "disable", false, "")
	fs.BoolVar(&self, "self", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	switch {
	case enable == disable:
		return c.usageError("node eligibility", "Give exactly one of -enable or -disable")
	case self && fs.NArg() > 0, !self && fs.NArg() != 1:
		return c.usageError("node eligibility", "This command takes one argument, <node>, or -self")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	nodeID, err := resolveNode(client, self, fs.Arg(0))
	if err != nil {
		c.UI.Error(err.Error())
		return exitError
	}
	if _, err := client.Nodes().ToggleEligibility(nodeID, enable); err != nil {
		c.UI.Error(fmt.Sprintf("Error updating scheduling eligibility: %v", err))
		return exitError
	}
	state := map[bool]string{true: "eligible", false: "ineligible"}[enable]
	c.UI.Output(fmt.Sprintf("Node %q scheduling eligibility set: %s for scheduling", nodeID, state))
	return exitOK
}
