package command

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("job history", func(m Meta) cli.Command { return &JobHistoryCommand{Meta: m} })
}

// JobHistoryCommand is "drover job history": the kept versions of a job.
type JobHistoryCommand struct {
	Meta
}

func (c *JobHistoryCommand) Synopsis() string { return "Display all tracked versions of a job" }

func (c *JobHistoryCommand) Help() string {
	return helpText(`
Usage: drover job history [options] <job>

  List the kept versions of a job (the last 6), newest first, with when
  each was submitted and whether it is marked stable. With -p, also show
  what changed from each version to the next.

History Options:

  -p
    Show the difference between each version and the one before it.

  -version <n>
    Show only version n.

  -full
    Show each version's full job as JSON.`, true)
}

func (c *JobHistoryCommand) Run(args []string) int {
	fs := c.flagSet("job history")
	diffs := fs.Bool("p", false, "")
	full := fs.Bool("full", false, "")
	versionFlag := fs.String("version", "", "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job history", "This command takes one argument: <job>")
	}
	var only *uint64
	if *versionFlag != "" {
		v, err := strconv.ParseUint(*versionFlag, 10, 64)
		if err != nil {
			return c.usageError("job history", fmt.Sprintf("-version must be a version number, got %q", *versionFlag))
		}
		only = &v
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	stub, err := client.Jobs().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error looking up job: %v", err))
		return exitError
	}
	resp, _, err := client.Jobs().Versions(stub.ID, *diffs, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error retrieving job versions: %v", err))
		return exitError
	}
	found := false
	for i, v := range resp.Versions {
		if only != nil && v.Version != *only {
			continue
		}
		found = true
		var diff *structs.JobDiff
		if *diffs && i < len(resp.Diffs) {
			diff = resp.Diffs[i]
		}
		if err := c.printVersion(v, diff, *full); err != nil {
			c.UI.Error(err.Error())
			return exitError
		}
		if only == nil && i+1 < len(resp.Versions) {
			c.UI.Output("")
		}
	}
	if !found && only != nil {
		c.UI.Error(fmt.Sprintf("Version %d of job %q is not kept", *only, stub.ID))
		return exitError
	}
	return exitOK
}

func (c *JobHistoryCommand) printVersion(job *structs.Job, diff *structs.JobDiff, full bool) error {
	rows := []string{
		fmt.Sprintf("Version|%d", job.Version),
		fmt.Sprintf("Stable|%t", job.Stable),
		fmt.Sprintf("Submit Date|%s", formatTime(unixNano(job.SubmitTime))),
	}
	if diff != nil {
		rows = append(rows, "Diff|")
	}
	c.UI.Output(formatKV(rows))
	if diff != nil {
		c.UI.Output(formatJobDiff(diff, false))
	}
	if full {
		out, err := jsonIndent(job)
		if err != nil {
			return err
		}
		c.UI.Output(out)
	}
	return nil
}
