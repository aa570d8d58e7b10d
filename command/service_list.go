package command

import (
	"fmt"
	"strings"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
)

func init() {
	Register("service", func(m Meta) cli.Command { return &ServiceCommand{} })
	Register("service list", func(m Meta) cli.Command { return &ServiceListCommand{Meta: m} })
	Register("service info", func(m Meta) cli.Command { return &ServiceInfoCommand{Meta: m} })
}

// ServiceCommand is "drover service".
type ServiceCommand struct{}

func (c *ServiceCommand) Synopsis() string { return "Inspect the registered services" }
func (c *ServiceCommand) Help() string {
	return helpText(`
Usage: drover service <subcommand> [options] [args]

  Work with the services that running allocations register in drover's
  own catalog (service blocks with provider "nomad", the default).

    $ drover service list
    $ drover service info api`, false)
}
func (c *ServiceCommand) Run([]string) int { return cli.RunResultHelp }

// ServiceListCommand is "drover service list".
type ServiceListCommand struct{ Meta }

func (c *ServiceListCommand) Synopsis() string { return "List the registered services" }

func (c *ServiceListCommand) Help() string {
	return helpText(`
Usage: drover service list [options]

  List the services registered in the namespace (-namespace "*" for every
  namespace), with the tags of their instances.`, true)
}

func (c *ServiceListCommand) Run(args []string) int {
	fs := c.flagSet("service list")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("service list", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	list, _, err := client.Services().List((&api.QueryOptions{}).WithContext(c.ctx()))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error listing services: %v", err))
		return exitError
	}
	allNamespaces := c.namespace == "*"
	rows := [][]string{{"Service Name", "Tags"}}
	if allNamespaces {
		rows[0] = []string{"Service Name", "Namespace", "Tags"}
	}
	for _, ns := range list {
		for _, s := range ns.Services {
			tags := "[" + strings.Join(s.Tags, ",") + "]"
			if allNamespaces {
				rows = append(rows, []string{s.ServiceName, ns.Namespace, tags})
			} else {
				rows = append(rows, []string{s.ServiceName, tags})
			}
		}
	}
	if len(rows) == 1 {
		c.UI.Output("No services found")
		return exitOK
	}
	c.UI.Output(formatTable(rows))
	return exitOK
}
