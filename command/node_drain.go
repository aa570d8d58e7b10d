package command

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

func init() {
	Register("node drain", func(m Meta) cli.Command { return &NodeDrainCommand{Meta: m} })
}

// NodeDrainCommand is "drover node drain": start, stop or follow a drain.
type NodeDrainCommand struct {
	Meta
}

func (c *NodeDrainCommand) Synopsis() string { return "Toggle drain mode on a client node" }

func (c *NodeDrainCommand) Help() string {
	return helpText(`
Usage: drover node drain [options] <node>

  Start (-enable) or stop (-disable) draining a client node. A draining
  node receives no new allocations, and its allocations migrate to other
  nodes in batches of each group's migrate.max_parallel; at the deadline
  whatever is left is stopped. System jobs leave last. When the drain is
  done, the node stays ineligible: "drover node eligibility -enable" lets
  it take work again. The node is an ID or a unique prefix of one.

  Unless -detach is given, the command follows the drain until it is done
  (Ctrl-C stops following, not the drain).

Drain Options:

  -enable
    Start draining the node.

  -disable
    Stop draining the node.

  -deadline <duration>
    How long allocations may take to migrate before the rest are stopped.
    Defaults to 1h.

  -no-deadline
    Migrate without a deadline.

  -force
    Stop every allocation at once (a deadline of now).

  -ignore-system
    Leave system jobs running on the node.

  -keep-ineligible
    With -disable, keep the node ineligible.

  -self
    Drain the node of the local agent.

  -detach
    Return at once instead of following the drain.

  -monitor
    Follow a drain already in progress.

  -yes
    Do not ask for confirmation.`, true)
}

func (c *NodeDrainCommand) Run(args []string) int {
	fs := c.flagSet("node drain")
	var enable, disable, noDeadline, force, ignoreSystem, keepIneligible, self, detach, monitor, yes bool
	var deadline time.Duration
	fs.BoolVar(&enable, "enable", false, "")
	fs.BoolVar(&disable, "disable", false, "")
	fs.DurationVar(&deadline, "deadline", time.Hour, "")
	fs.BoolVar(&noDeadline, "no-deadline", false, "")
	fs.BoolVar(&force, "force", false, "")
	fs.BoolVar(&ignoreSystem, "ignore-system", false, "")
	fs.BoolVar(&keepIneligible, "keep-ineligible", false, "")
	fs.BoolVar(&self, "self", false, "")
	fs.BoolVar(&detach, "detach", false, "")
	fs.BoolVar(&monitor, "monitor", false, "")
	fs.BoolVar(&yes, "yes", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	switch {
	case enable && disable:
		return c.usageError("node drain", "-enable and -disable are mutually exclusive")
	case monitor && (enable || disable):
		return c.usageError("node drain", "-monitor cannot be combined with -enable or -disable")
	case !monitor && !enable && !disable:
		return c.usageError("node drain", "Give -enable, -disable or -monitor")
	case monitor && detach:
		return c.usageError("node drain", "-monitor and -detach are mutually exclusive")
	case noDeadline && force:
		return c.usageError("node drain", "-no-deadline and -force are mutually exclusive")
	case deadline <= 0 && !noDeadline && !force:
		return c.usageError("node drain", "-deadline must be positive")
	case self && fs.NArg() > 0, !self && fs.NArg() != 1:
		return c.usageError("node drain", "This command takes one argument, <node>, or -self")
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
	if monitor {
		return c.follow(client, nodeID, 0)
	}

	// A prefix could name another node than the user meant: ask.
	if !yes && !self && nodeID != fs.Arg(0) && isTerminalFd(0) {
		verb := map[bool]string{true: "enable", false: "disable"}[enable]
		answer, err := c.UI.Ask(fmt.Sprintf("Are you sure you want to %s drain mode for node %q? [y/N]", verb, nodeID))
		if err != nil {
			c.UI.Error(fmt.Sprintf("Failed to read confirmation: %v", err))
			return exitError
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			c.UI.Output("Canceling drain toggle")
			return exitOK
		}
	}

	var spec *structs.DrainSpec
	if enable {
		spec = &structs.DrainSpec{Deadline: deadline, IgnoreSystemJobs: ignoreSystem}
		switch {
		case force:
			spec.Deadline = -1
		case noDeadline:
			spec.Deadline = 0
		}
	}
	resp, err := client.Nodes().UpdateDrain(nodeID, spec, disable && !keepIneligible)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error updating drain specification: %v", err))
		return exitError
	}
	if disable {
		c.UI.Output(fmt.Sprintf("%s: Node %q drain strategy unset", formatTime(c.now()), nodeID))
		return exitOK
	}
	c.UI.Output(fmt.Sprintf("%s: Node %q drain strategy set", formatTime(c.now()), nodeID))
	if detach {
		return exitOK
	}
	return c.follow(client, nodeID, resp.Index)
}

// follow prints the drain's progress until it is done: allocations marked
// to migrate, their status changes, and the drain's end.
func (c *NodeDrainCommand) follow(client *api.Client, nodeID string, index uint64) int {
	c.UI.Output(fmt.Sprintf("%s: Ctrl-C to stop monitoring: will not cancel the node drain", formatTime(c.now())))
	seen := map[string]string{}
	marked := map[string]bool{}
	for {
		if err := c.ctx().Err(); err != nil {
			return exitOK
		}
		q := &api.QueryOptions{WaitIndex: index, WaitTime: 2 * time.Second}
		allocs, meta, err := client.Nodes().Allocations(nodeID, q)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error reading allocations of node %q: %v", nodeID, err))
			return exitError
		}
		running := 0
		for _, a := range allocs {
			short := shortID(a.ID, false)
			if a.DesiredTransition.ShouldMigrate() && !marked[a.ID] {
				marked[a.ID] = true
				c.UI.Output(fmt.Sprintf("%s: Alloc %q marked for migration", formatTime(c.now()), short))
			}
			if old, ok := seen[a.ID]; ok && old != a.ClientStatus {
				c.UI.Output(fmt.Sprintf("%s: Alloc %q status %s -> %s", formatTime(c.now()), short, old, a.ClientStatus))
			}
			seen[a.ID] = a.ClientStatus
			if !a.ClientTerminal() {
				running++
			}
		}
		node, _, err := client.Nodes().Info(nodeID, nil)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error reading node %q: %v", nodeID, err))
			return exitError
		}
		if node.DrainStrategy == nil {
			status := "complete"
			if node.LastDrain != nil && node.LastDrain.Status != "" {
				status = node.LastDrain.Status
			}
			if status == structs.DrainStatusCanceled {
				c.UI.Output(fmt.Sprintf("%s: Drain canceled for node %q", formatTime(c.now()), nodeID))
				return exitOK
			}
			c.UI.Output(fmt.Sprintf("%s: Drain complete for node %q", formatTime(c.now()), nodeID))
			if running == 0 {
				c.UI.Output(fmt.Sprintf("%s: All allocations on node %q have stopped", formatTime(c.now()), nodeID))
				return exitOK
			}
		}
		index = meta.LastIndex
	}
}

// resolveNode finds the node meant: the local agent's with self, else the
// one whose ID is or starts with prefix.
func resolveNode(client *api.Client, self bool, prefix string) (string, error) {
	if !self {
		stub, err := client.Nodes().Resolve(prefix, nil)
		if err != nil {
			return "", errors.New(resolveError("node", err))
		}
		return stub.ID, nil
	}
	info, err := client.Agent().Self()
	if err != nil {
		return "", fmt.Errorf("Error querying the local agent: %v", err)
	}
	stats, _ := info["stats"].(map[string]any)
	cl, _ := stats["client"].(map[string]any)
	id, _ := cl["node_id"].(string)
	if id == "" {
		return "", errors.New("The local agent runs no client: -self needs a client agent")
	}
	return id, nil
}
