package command

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
)

func init() {
	Register("operator", func(m Meta) cli.Command { return &OperatorCommand{} })
	Register("operator raft", func(m Meta) cli.Command { return &OperatorRaftCommand{} })
	Register("operator raft list-peers", func(m Meta) cli.Command { return &OperatorRaftListPeersCommand{Meta: m} })
	Register("operator raft remove-peer", func(m Meta) cli.Command { return &OperatorRaftRemovePeerCommand{Meta: m} })
	Register("operator raft transfer-leadership", func(m Meta) cli.Command { return &OperatorRaftTransferCommand{Meta: m} })
}

// OperatorCommand is "drover operator".
type OperatorCommand struct{}

func (c *OperatorCommand) Synopsis() string {
	return "Cluster tools for operators: Raft peers, snapshots, scheduler configuration"
}
func (c *OperatorCommand) Help() string {
	return helpText(`
Usage: drover operator <subcommand> [options] [args]

  Cluster-level tools for operators: look at and change the Raft peer set,
  hand over leadership, save and restore snapshots of the cluster state.
  Use them with care: a wrong peer removal can cost the cluster its quorum.

    $ drover operator raft list-peers
    $ drover operator raft remove-peer -peer-address=10.0.0.3:4747
    $ drover operator snapshot save backup.snap`, false)
}
func (c *OperatorCommand) Run([]string) int { return cli.RunResultHelp }

// OperatorRaftCommand is "drover operator raft".
type OperatorRaftCommand struct{}

func (c *OperatorRaftCommand) Synopsis() string { return "Inspect and change the Raft peer set" }
func (c *OperatorRaftCommand) Help() string {
	return helpText(`
Usage: drover operator raft <subcommand> [options]

  Inspect and change the servers of the Raft configuration.

    $ drover operator raft list-peers
    $ drover operator raft remove-peer -peer-id=<id>
    $ drover operator raft transfer-leadership`, false)
}
func (c *OperatorRaftCommand) Run([]string) int { return cli.RunResultHelp }

// OperatorRaftListPeersCommand is "drover operator raft list-peers".
type OperatorRaftListPeersCommand struct{ Meta }

func (c *OperatorRaftListPeersCommand) Synopsis() string {
	return "List the servers of the Raft configuration"
}
func (c *OperatorRaftListPeersCommand) Help() string {
	return helpText(`
Usage: drover operator raft list-peers [options]

  List the servers of the Raft configuration: their name, Raft ID, address,
  state (leader or follower), whether they vote, and their Raft protocol.

List Peers Options:

  -stale
    Answer from the contacted server's own view, even without a leader.`, true)
}

func (c *OperatorRaftListPeersCommand) Run(args []string) int {
	fs := c.flagSet("operator raft list-peers")
	var stale bool
	fs.BoolVar(&stale, "stale", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("operator raft list-peers", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	conf, err := client.Operator().RaftGetConfiguration(&api.QueryOptions{AllowStale: stale})
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error retrieving the Raft configuration: %v", err))
		return exitError
	}
	rows := [][]string{{"Node", "ID", "Address", "State", "Voter", "RaftProtocol"}}
	for _, s := range conf.Servers {
		state := "follower"
		if s.Leader {
			state = "leader"
		}
		rows = append(rows, []string{s.Node, s.ID, s.Address, state, strconv.FormatBool(s.Voter), s.RaftProtocol})
	}
	c.UI.Output(formatTable(rows))
	return exitOK
}

// OperatorRaftRemovePeerCommand is "drover operator raft remove-peer".
type OperatorRaftRemovePeerCommand struct{ Meta }

func (c *OperatorRaftRemovePeerCommand) Synopsis() string {
	return "Remove a server from the Raft configuration"
}
func (c *OperatorRaftRemovePeerCommand) Help() string {
	return helpText(`
Usage: drover operator raft remove-peer [options]

  Remove a server from the Raft configuration. Use it when a server is
  gone for good and the cluster cannot remove it on its own, for example
  after an outage in which it failed without leaving. A server that is
  still running and a member of the cluster may be added back by it.

Remove Peer Options:

  -peer-address=<addr>
    The RPC address of the server to remove, as list-peers shows it
    (host:port).

  -peer-id=<id>
    The Raft ID of the server to remove, as list-peers shows it.

  Give exactly one of them.`, true)
}

func (c *OperatorRaftRemovePeerCommand) Run(args []string) int {
	fs := c.flagSet("operator raft remove-peer")
	var address, id string
	fs.StringVar(&address, "peer-address", "", "")
	fs.StringVar(&id, "peer-id", "", "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("operator raft remove-peer", "This command takes no arguments")
	}
	if (address == "") == (id == "") {
		return c.usageError("operator raft remove-peer", "Give exactly one of -peer-address and -peer-id")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	target := address
	if address != "" {
		err = client.Operator().RaftRemovePeerByAddress(address)
	} else {
		target = id
		err = client.Operator().RaftRemovePeerByID(id)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error removing peer: %v", err))
		return exitError
	}
	c.UI.Output(fmt.Sprintf("Removed peer %s", target))
	return exitOK
}

// OperatorRaftTransferCommand is "drover operator raft transfer-leadership".
type OperatorRaftTransferCommand struct{ Meta }

func (c *OperatorRaftTransferCommand) Synopsis() string {
	return "Hand Raft leadership to another server"
}
func (c *OperatorRaftTransferCommand) Help() string {
	return helpText(`
Usage: drover operator raft transfer-leadership [options]

  Hand leadership of the cluster to another server, for example before
  taking the leader down for maintenance. Without options, the most
  up-to-date follower takes over.

Transfer Leadership Options:

  -peer-address=<addr>
    The RPC address of the server to lead (host:port).

  -peer-id=<id>
    The Raft ID of the server to lead.`, true)
}

func (c *OperatorRaftTransferCommand) Run(args []string) int {
	fs := c.flagSet("operator raft transfer-leadership")
	var address, id string
	fs.StringVar(&address, "peer-address", "", "")
	fs.StringVar(&id, "peer-id", "", "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("operator raft transfer-leadership", "This command takes no arguments")
	}
	if address != "" && id != "" {
		return c.usageError("operator raft transfer-leadership", "Give at most one of -peer-address and -peer-id")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	if address != "" {
		err = client.Operator().RaftTransferLeadershipToAddress(address)
	} else {
		err = client.Operator().RaftTransferLeadershipToID(id)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error transferring leadership: %v", err))
		return exitError
	}
	c.UI.Output("Leadership transferred")
	return exitOK
}
