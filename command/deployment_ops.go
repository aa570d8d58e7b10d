package command

import (
	"fmt"
	"strings"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

func init() {
	for _, op := range []string{"promote", "fail", "pause", "resume", "unblock"} {
		Register("deployment "+op, func(m Meta) cli.Command { return &DeploymentOpCommand{Meta: m, op: op} })
	}
}

// DeploymentOpCommand is "drover deployment promote|fail|pause|resume|
// unblock": one change to a deployment.
type DeploymentOpCommand struct {
	Meta
	op string
}

var deploymentOpHelp = map[string][2]string{
	"promote": {"Promote canaries in a deployment", `
  Promote the canaries of a deployment: the old allocations they stand
  beside are replaced, and the rest of the groups roll out. Without -group
  every group's canaries are promoted.

Promote Options:

  -group <name>
    Promote only this group's canaries; may be repeated.`},
	"fail": {"Manually fail a deployment", `
  Mark an active deployment failed: nothing more of it is placed. When its
  update block asks for auto_revert, the job goes back to its last stable
  version.`},
	"pause":   {"Pause a deployment", "\n  Pause an active deployment: it places nothing more until resumed."},
	"resume":  {"Resume a paused deployment", "\n  Resume a paused deployment."},
	"unblock": {"Unblock a blocked deployment", "\n  Mark a blocked deployment successful."},
}

func (c *DeploymentOpCommand) Synopsis() string { return deploymentOpHelp[c.op][0] }

func (c *DeploymentOpCommand) Help() string {
	return helpText(fmt.Sprintf(`
Usage: drover deployment %s [options] <deployment>
%s

  -detach
    Print the evaluation ID and return at once (promote, resume).

  -verbose
    Show full IDs.`, c.op, deploymentOpHelp[c.op][1]), true)
}

type groupsFlag []string

func (g *groupsFlag) String() string     { return strings.Join(*g, ",") }
func (g *groupsFlag) Set(v string) error { *g = append(*g, v); return nil }

func (c *DeploymentOpCommand) Run(args []string) int {
	name := "deployment " + c.op
	fs := c.flagSet(name)
	var groups groupsFlag
	if c.op == "promote" {
		fs.Var(&groups, "group", "")
	}
	detach := fs.Bool("detach", false, "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError(name, "This command takes one argument: <deployment>")
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
	var resp *structs.DeploymentUpdateResponse
	switch c.op {
	case "promote":
		if len(groups) > 0 {
			resp, err = client.Deployments().PromoteGroups(d.ID, groups)
		} else {
			resp, err = client.Deployments().PromoteAll(d.ID)
		}
	case "fail":
		resp, err = client.Deployments().Fail(d.ID)
	case "pause", "resume":
		resp, err = client.Deployments().Pause(d.ID, c.op == "pause")
	case "unblock":
		resp, err = client.Deployments().Unblock(d.ID)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error: %s deployment: %v", c.op, err))
		return exitError
	}
	switch c.op {
	case "pause":
		c.UI.Output(fmt.Sprintf("Deployment %q paused", shortID(d.ID, *verbose)))
	case "resume":
		c.UI.Output(fmt.Sprintf("Deployment %q resumed", shortID(d.ID, *verbose)))
	case "unblock":
		c.UI.Output(fmt.Sprintf("Deployment %q unblocked", shortID(d.ID, *verbose)))
	case "fail":
		msg := fmt.Sprintf("Deployment %q failed", shortID(d.ID, *verbose))
		if resp.RevertedJobVersion != nil {
			msg += fmt.Sprintf(". Reverted job to version %d", *resp.RevertedJobVersion)
		}
		c.UI.Output(msg)
	}
	if resp.EvalID == "" || *detach {
		if resp.EvalID != "" {
			c.UI.Output(resp.EvalID)
		}
		return exitOK
	}
	ctx, stop := interruptible(c.ctx())
	defer stop()
	mon := &monitor{meta: &c.Meta, client: client, verbose: *verbose}
	return mon.run(ctx, resp.EvalID)
}
