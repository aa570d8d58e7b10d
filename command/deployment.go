package command

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

func init() {
	Register("deployment", func(m Meta) cli.Command { return &DeploymentCommand{} })
	Register("deployment list", func(m Meta) cli.Command { return &DeploymentListCommand{Meta: m} })
	Register("deployment status", func(m Meta) cli.Command { return &DeploymentStatusCommand{Meta: m} })
}

// DeploymentCommand is "drover deployment".
type DeploymentCommand struct{}

func (c *DeploymentCommand) Synopsis() string { return "Interact with deployments" }
func (c *DeploymentCommand) Help() string {
	return helpText(`
Usage: drover deployment <subcommand> [options] [args]

  Work with deployments, the rollouts of new versions of service jobs:
  list them, follow one, promote its canaries, fail, pause or resume it.

    $ drover deployment list
    $ drover deployment status 8ba85cef
    $ drover deployment promote 8ba85cef
    $ drover deployment fail 8ba85cef`, false)
}
func (c *DeploymentCommand) Run([]string) int { return cli.RunResultHelp }

// DeploymentListCommand is "drover deployment list".
type DeploymentListCommand struct{ Meta }

func (c *DeploymentListCommand) Synopsis() string { return "List all deployments" }

func (c *DeploymentListCommand) Help() string {
	return helpText(`
Usage: drover deployment list [options]

  List deployments, newest first.

List Options:

  -verbose
    Show full IDs.`, true)
}

func (c *DeploymentListCommand) Run(args []string) int {
	fs := c.flagSet("deployment list")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("deployment list", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	list, _, err := client.Deployments().List((&api.QueryOptions{}).WithContext(c.ctx()))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error retrieving deployments: %v", err))
		return exitError
	}
	if len(list) == 0 {
		c.UI.Output("No deployments found")
		return exitOK
	}
	c.UI.Output(formatDeploymentList(list, *verbose))
	return exitOK
}

func formatDeploymentList(list []*structs.Deployment, verbose bool) string {
	rows := [][]string{{"ID", "Job ID", "Job Version", "Status", "Description"}}
	for _, d := range list {
		rows = append(rows, []string{shortID(d.ID, verbose), d.JobID, strconv.FormatUint(d.JobVersion, 10), d.Status, d.StatusDescription})
	}
	return formatTable(rows)
}

// DeploymentStatusCommand is "drover deployment status".
type DeploymentStatusCommand struct{ Meta }

func (c *DeploymentStatusCommand) Synopsis() string { return "Display the status of a deployment" }

func (c *DeploymentStatusCommand) Help() string {
	return helpText(`
Usage: drover deployment status [options] <deployment>

  Show a deployment (by ID or unique ID prefix): its status and, per
  group, how many allocations are desired, placed, healthy and unhealthy,
  the canaries and whether they were promoted, and the progress deadline.

Status Options:

  -monitor
    Follow the deployment until it ends; exit 0 when it succeeds, 1 when
    it fails or is cancelled.

  -verbose
    Show full IDs.`, true)
}

func (c *DeploymentStatusCommand) Run(args []string) int {
	fs := c.flagSet("deployment status")
	verbose := fs.Bool("verbose", false, "")
	follow := fs.Bool("monitor", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("deployment status", "This command takes one argument: <deployment>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	d, _, err := client.Deployments().Info(fs.Arg(0), (&api.QueryOptions{}).WithContext(c.ctx()))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error retrieving deployment: %v", err))
		return exitError
	}
	if *follow {
		ctx, stop := interruptible(c.ctx())
		defer stop()
		return followDeployment(ctx, &c.Meta, client, d.ID, *verbose)
	}
	c.UI.Output(formatDeployment(d, *verbose))
	return exitOK
}

// formatDeployment is a deployment as `deployment status` shows it, as
// Nomad's.
func formatDeployment(d *structs.Deployment, verbose bool) string {
	out := formatKV([]string{
		"ID|" + shortID(d.ID, verbose),
		"Job ID|" + d.JobID,
		"Job Version|" + strconv.FormatUint(d.JobVersion, 10),
		"Status|" + d.Status,
		"Description|" + d.StatusDescription,
	})
	if len(d.TaskGroups) == 0 {
		return out
	}
	return out + "\n\nDeployed\n" + formatDeploymentGroups(d)
}

// formatDeploymentGroups is the per-group table.
func formatDeploymentGroups(d *structs.Deployment) string {
	canaries, autoRevert, autoPromote := false, false, false
	for _, s := range d.TaskGroups {
		canaries = canaries || s.DesiredCanaries > 0
		autoRevert = autoRevert || s.AutoRevert
		autoPromote = autoPromote || s.AutoPromote
	}
	header := []string{"Task Group"}
	if autoRevert {
		header = append(header, "Auto Revert")
	}
	if canaries {
		header = append(header, "Promoted")
		if autoPromote {
			header = append(header, "Auto Promote")
		}
	}
	header = append(header, "Desired")
	if canaries {
		header = append(header, "Canaries")
	}
	header = append(header, "Placed", "Healthy", "Unhealthy", "Progress Deadline")
	rows := [][]string{header}
	names := make([]string, 0, len(d.TaskGroups))
	for name := range d.TaskGroups {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s := d.TaskGroups[name]
		row := []string{name}
		if autoRevert {
			row = append(row, strconv.FormatBool(s.AutoRevert))
		}
		if canaries {
			promoted := "N/A"
			if s.DesiredCanaries > 0 {
				promoted = strconv.FormatBool(s.Promoted)
			}
			row = append(row, promoted)
			if autoPromote {
				row = append(row, strconv.FormatBool(s.AutoPromote))
			}
		}
		row = append(row, strconv.Itoa(s.DesiredTotal))
		if canaries {
			row = append(row, strconv.Itoa(s.DesiredCanaries))
		}
		deadline := "N/A"
		if !s.RequireProgressBy.IsZero() {
			deadline = formatTime(s.RequireProgressBy)
		}
		row = append(row, strconv.Itoa(s.PlacedAllocs), strconv.Itoa(s.HealthyAllocs), strconv.Itoa(s.UnhealthyAllocs), deadline)
		rows = append(rows, row)
	}
	return formatTable(rows)
}

// followDeployment prints the deployment each time it changes until it
// ends: 0 when it succeeded, 1 otherwise.
func followDeployment(ctx context.Context, m *Meta, client *api.Client, id string, verbose bool) int {
	m.UI.Output(fmt.Sprintf("==> %s: Monitoring deployment %q", time.Now().Format("2006-01-02T15:04:05Z07:00"), shortID(id, verbose)))
	var index uint64
	last := ""
	for {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: monitorWait}).WithContext(ctx)
		d, meta, err := client.Deployments().Info(id, q)
		if ctx.Err() != nil {
			return exitError
		}
		if err != nil {
			m.UI.Error(fmt.Sprintf("Error reading deployment %q: %v", id, err))
			return exitError
		}
		index = meta.LastIndex
		shown := formatDeployment(d, verbose)
		if shown != last {
			m.UI.Output(indent(fmt.Sprintf("%s\n%s", time.Now().Format("2006-01-02T15:04:05Z07:00"), shown), "    ") + "\n")
			last = shown
		}
		switch d.Status {
		case structs.DeploymentStatusSuccessful:
			m.UI.Output(fmt.Sprintf("    Deployment %q successful", shortID(d.ID, verbose)))
			return exitOK
		case structs.DeploymentStatusFailed, structs.DeploymentStatusCancelled:
			m.UI.Error(fmt.Sprintf("    Deployment %q %s: %s", shortID(d.ID, verbose), d.Status, d.StatusDescription))
			return exitError
		}
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
