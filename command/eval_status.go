package command

import (
	"fmt"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("eval status", func(m Meta) cli.Command { return &EvalStatusCommand{Meta: m} })
}

// EvalStatusCommand is "drover eval status": one evaluation in detail.
type EvalStatusCommand struct {
	Meta
}

func (c *EvalStatusCommand) Synopsis() string { return "Display the status of an evaluation" }

func (c *EvalStatusCommand) Help() string {
	return helpText(`
Usage: drover eval status [options] <evaluation>

  Show an evaluation (by ID or a unique prefix of one): what triggered it,
  its status, the evaluations before and after it, and, when some
  allocations could not be placed, why, with the scheduler's counts per
  reason. A blocked evaluation waiting for capacity shows the failures of
  the evaluation that created it.

Status Options:

  -verbose
    Show full IDs.`, true)
}

func (c *EvalStatusCommand) Run(args []string) int {
	fs := c.flagSet("eval status")
	verbose := fs.Bool("verbose", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("eval status", "This command takes one argument: <evaluation>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	eval, err := client.Evaluations().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error looking up evaluation: %v", err))
		return exitError
	}
	// A blocked evaluation has not run yet: what it waits to place is what
	// its predecessor failed to place.
	failed, failedEval := eval.FailedTGAllocs, eval
	if len(failed) == 0 && eval.Status == structs.EvalStatusBlocked && eval.PreviousEval != "" {
		if prev, _, err := client.Evaluations().Info(eval.PreviousEval, nil); err == nil {
			failed, failedEval = prev.FailedTGAllocs, prev
		}
	}
	id := func(s string) string {
		if s == "" {
			return "<none>"
		}
		return shortID(s, *verbose)
	}
	rows := []string{
		"ID|" + shortID(eval.ID, *verbose),
		"Create Time|" + formatTime(unixNano(eval.CreateTime)),
		"Modify Time|" + formatTime(unixNano(eval.ModifyTime)),
		"Status|" + eval.Status,
		"Status Description|" + orNone(eval.StatusDescription),
		"Type|" + eval.Type,
		"TriggeredBy|" + eval.TriggeredBy,
		"Job ID|" + eval.JobID,
		"Namespace|" + eval.Namespace,
	}
	if eval.NodeID != "" {
		rows = append(rows, "Node ID|"+shortID(eval.NodeID, *verbose))
	}
	rows = append(rows,
		fmt.Sprintf("Priority|%d", eval.Priority),
		fmt.Sprintf("Placement Failures|%t", len(failed) > 0),
		"Previous Eval|"+id(eval.PreviousEval),
		"Next Eval|"+id(eval.NextEval),
		"Blocked Eval|"+id(eval.BlockedEval),
	)
	c.UI.Output(formatKV(rows))
	if len(failed) > 0 {
		c.UI.Output("")
		if failedEval != eval {
			c.UI.Output(fmt.Sprintf("==> Failed Placements (of evaluation %q, which this one retries)", shortID(failedEval.ID, *verbose)))
		} else {
			c.UI.Output("==> Failed Placements")
		}
		c.UI.Output(formatPlacementFailures(failed, ""))
		if eval.BlockedEval != "" {
			c.UI.Output("")
			c.UI.Output(fmt.Sprintf("Evaluation %q waiting for additional capacity to place remainder", shortID(eval.BlockedEval, *verbose)))
		}
	}
	return exitOK
}
