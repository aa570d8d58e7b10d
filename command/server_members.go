package command

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("server", func(m Meta) cli.Command { return &ServerCommand{} })
	Register("server members", func(m Meta) cli.Command { return &ServerMembersCommand{Meta: m} })
}

// ServerCommand is "drover server".
type ServerCommand struct{}

func (c *ServerCommand) Synopsis() string { return "Inspect and manage the cluster's servers" }
func (c *ServerCommand) Help() string {
	return helpText(`
Usage: drover server <subcommand> [options] [args]

  Work with the servers of a region: list them as gossip sees them, join a
  server to others, force a failed server out.

    $ drover server members
    $ drover server join 10.0.0.2
    $ drover server force-leave s3`, false)
}
func (c *ServerCommand) Run([]string) int { return cli.RunResultHelp }

// ServerMembersCommand is "drover server members".
type ServerMembersCommand struct {
	Meta
	verbose bool
}

func (c *ServerMembersCommand) Synopsis() string { return "List the servers and their status" }

func (c *ServerMembersCommand) Help() string {
	return helpText(`
Usage: drover server members [options]

  List the servers of the region as the agent's gossip sees them: name,
  gossip address and port, status (alive, failed or left), whether it leads,
  the Raft protocol version, build, datacenter and region, and its place in
  the Raft configuration (voter, nonvoter or none).

Members Options:

  -verbose
    Also show the protocol version and each member's gossip tags.`, true)
}

func (c *ServerMembersCommand) Run(args []string) int {
	fs := c.flagSet("server members")
	fs.BoolVar(&c.verbose, "verbose", false, "")
	fs.BoolVar(&c.verbose, "detailed", false, "") // Nomad's older name
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("server members", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	members, err := client.Agent().Members()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying servers: %v", err))
		return exitError
	}
	c.UI.Output(formatMembers(members.Members, c.verbose))
	return exitOK
}

// formatMembers prints Nomad's columns, sorted by region then name, plus
// drover's Raft State column.
func formatMembers(members []*structs.AgentMember, verbose bool) string {
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b *structs.AgentMember) int {
		return cmp.Or(cmp.Compare(a.Tags["region"], b.Tags["region"]), cmp.Compare(a.Name, b.Name))
	})
	header := []string{"Name", "Address", "Port", "Status", "Leader"}
	if verbose {
		header = append(header, "Protocol")
	}
	header = append(header, "Raft Version", "Build", "Datacenter", "Region", "Raft State")
	if verbose {
		header = append(header, "Tags")
	}
	rows := [][]string{header}
	for _, m := range members {
		row := []string{m.Name, m.Addr, strconv.Itoa(int(m.Port)), m.Status, strconv.FormatBool(m.Leader)}
		if verbose {
			row = append(row, strconv.Itoa(int(m.ProtocolCur)))
		}
		row = append(row, orDash(m.Tags["raft_vsn"]), orDash(m.Tags["build"]), orDash(m.Tags["dc"]), orDash(m.Tags["region"]), orDash(m.RaftState))
		if verbose {
			var tags []string
			for _, k := range slices.Sorted(maps.Keys(m.Tags)) {
				tags = append(tags, k+"="+m.Tags[k])
			}
			row = append(row, strings.Join(tags, ","))
		}
		rows = append(rows, row)
	}
	return formatTable(rows)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
