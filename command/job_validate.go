package command

import (
	"fmt"
	"strings"
)

// JobValidateCommand is "drover job validate": check a job file here,
// without an agent.
type JobValidateCommand struct {
	Meta
	jobFile jobFileFlags
}

func (c *JobValidateCommand) Synopsis() string { return "Check a job file for mistakes" }

func (c *JobValidateCommand) Help() string {
	return helpText(`
Usage: drover job validate [options] <path>

  Parse the job file at path ("-" reads standard input), fill in the
  defaults and check the job, reporting every problem found. It needs no
  agent. Exits 0 when the job is valid, 1 otherwise.

Validate Options:

`+jobFileOptionsHelp, false)
}

func (c *JobValidateCommand) Run(args []string) int {
	fs := c.flagSet("job validate")
	c.jobFile.register(fs)
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job validate", "This command takes one argument: <path>")
	}
	job, err := c.jobFile.readJobFile(fs.Arg(0), c.Stdin)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing job file %s:\n%v", fs.Arg(0), err))
		return exitError
	}
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		var b strings.Builder
		b.WriteString("Job validation errors:")
		for _, line := range strings.Split(err.Error(), "\n") {
			b.WriteString("\n  * " + line)
		}
		c.UI.Error(b.String())
		return exitError
	}
	c.UI.Output("Job validation successful")
	return exitOK
}
