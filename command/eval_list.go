package command

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("eval list", func(m Meta) cli.Command { return &EvalListCommand{Meta: m} })
}

// EvalListCommand is "drover eval list".
type EvalListCommand struct {
	Meta
}

func (c *EvalListCommand) Synopsis() string { return "List the evaluations" }

func (c *EvalListCommand) Help() string {
	return helpText(`
Usage: drover eval list [options]

  List the evaluations, newest first: what triggered each, for which job,
  its status, and whether some of its allocations could not be placed
  (see "drover eval status <id>" for why).

List Options:

  -job <id>
    Only the evaluations of this job.

  -status <status>
    Only evaluations with this status (pending, blocked, complete, failed,
    canceled).

  -verbose
    Show full IDs.`, true)
}

func (c *EvalListCommand) Run(args []string) int {
	fs := c.flagSet("eval list")
	jobID := fs.String("job", "", "")
	status := fs.String("status", "", "")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 0 {
		return c.usageError("eval list", "This command takes no arguments")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	var evals []*structs.Evaluation
	if *jobID != "" {
		evals, _, err = client.Jobs().Evaluations(*jobID, nil)
	} else {
		evals, _, err = client.Evaluations().List(nil)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error querying evaluations: %v", err))
		return exitError
	}
	evals = slices.DeleteFunc(evals, func(e *structs.Evaluation) bool { return *status != "" && e.Status != *status })
	if len(evals) == 0 {
		c.UI.Output("No evals found")
		return exitOK
	}
	slices.SortStableFunc(evals, func(a, b *structs.Evaluation) int { return cmp.Compare(b.CreateIndex, a.CreateIndex) })
	rows := [][]string{{"ID", "Priority", "Triggered By", "Job ID", "Namespace", "Node ID", "Status", "Placement Failures"}}
	for _, e := range evals {
		node := ""
		if e.NodeID != "" {
			node = shortID(e.NodeID, *verbose)
		}
		rows = append(rows, []string{shortID(e.ID, *verbose), fmt.Sprint(e.Priority), e.TriggeredBy, e.JobID,
			e.Namespace, node, e.Status, fmt.Sprint(len(e.FailedTGAllocs) > 0)})
	}
	c.UI.Output(formatTable(rows))
	return exitOK
}

func init() {
	Register("eval", func(Meta) cli.Command { return &EvalCommand{} })
}

// EvalCommand is "drover eval".
type EvalCommand struct{}

func (c *EvalCommand) Synopsis() string { return "Inspect evaluations" }
func (c *EvalCommand) Help() string {
	return helpText(`
Usage: drover eval <subcommand> [options] [args]

  Inspect the evaluations: the scheduler's runs for a job, what triggered
  them and why allocations could not be placed.

    $ drover eval list -job web
    $ drover eval status 3c7b6f0e`, false)
}
func (c *EvalCommand) Run([]string) int { return cli.RunResultHelp }
