package command

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/drover-project/drover/api"
)

// ServiceInfoCommand is "drover service info NAME".
type ServiceInfoCommand struct {
	Meta
	verbose bool
}

func (c *ServiceInfoCommand) Synopsis() string { return "Show the instances of a service" }

func (c *ServiceInfoCommand) Help() string {
	return helpText(`
Usage: drover service info [options] <service name>

  Show every registered instance of a service: its job, address, tags,
  node and allocation, and its health (passing while every check passes,
  or while it runs when it has no checks; critical otherwise).

Info Options:

  -verbose
    Show full IDs and each instance's checks.`, true)
}

func (c *ServiceInfoCommand) Run(args []string) int {
	fs := c.flagSet("service info")
	fs.BoolVar(&c.verbose, "verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("service info", "This command takes one argument: <service name>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	name := fs.Arg(0)
	regs, _, err := client.Services().Get(name, (&api.QueryOptions{}).WithContext(c.ctx()))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading service %q: %v", name, err))
		return exitError
	}
	if len(regs) == 0 {
		c.UI.Output(fmt.Sprintf("No instances of service %q found", name))
		return exitOK
	}
	header := []string{"Job ID", "Address", "Tags", "Node ID", "Alloc ID", "Health"}
	if c.verbose {
		header = append([]string{"ID"}, append(header, "Checks")...)
	}
	rows := [][]string{header}
	for _, r := range regs {
		row := []string{
			r.JobID,
			net.JoinHostPort(r.Address, strconv.Itoa(r.Port)),
			"[" + strings.Join(r.Tags, ",") + "]",
			shortID(r.NodeID, c.verbose),
			shortID(r.AllocID, c.verbose),
			orNone(r.Health),
		}
		if c.verbose {
			var checks []string
			for _, chk := range r.Checks {
				checks = append(checks, chk.Name+"="+chk.Status)
			}
			row = append([]string{r.ID}, append(row, orNone(strings.Join(checks, ", ")))...)
		}
		rows = append(rows, row)
	}
	c.UI.Output(formatTable(rows))
	return exitOK
}
