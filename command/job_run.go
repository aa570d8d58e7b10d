package command

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// JobRunCommand is "drover job run": parse a job file here, submit it, and
// follow the evaluation that schedules it.
type JobRunCommand struct {
	Meta
	jobFile jobFileFlags
}

func (c *JobRunCommand) Synopsis() string { return "Run a new job or update an existing one" }

func (c *JobRunCommand) Help() string {
	return helpText(`
Usage: drover job run [options] <path>

  Parse the job file at path ("-" reads standard input), submit the job and
  follow the evaluation that schedules it: the allocations it places, and
  why any could not be placed. For a service job, then follow the
  deployment that rolls the version out, per group: desired, placed,
  healthy and unhealthy allocations and the progress deadline, until it
  succeeds or fails.

  Exit codes: 0 when every allocation was placed (and the deployment
  succeeded), 2 when some could not be (unsatisfiable constraints,
  exhausted resources) or the evaluation failed, 1 when the deployment
  failed and on any other error.

Run Options:

  -check-index
    Submit the job only if its job modify index is still the one given, as
    "drover job plan" prints it; 0 submits only if the job does not exist
    yet. The job is refused when another change came in meanwhile.

  -detach
    Print the evaluation ID and return at once, without following it or
    the deployment.

  -verbose
    Show full IDs.

`+jobFileOptionsHelp, true)
}

func (c *JobRunCommand) Run(args []string) int {
	fs := c.flagSet("job run")
	detach := fs.Bool("detach", false, "")
	checkIndex := fs.Uint64("check-index", 0, "")
	verbose := fs.Bool("verbose", false, "")
	c.jobFile.register(fs)
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("job run", "This command takes one argument: <path>")
	}

	job, err := c.jobFile.readJobFile(fs.Arg(0), c.Stdin)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing job file %s:\n%v", fs.Arg(0), err))
		return exitError
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	enforce := false
	fs.Visit(func(f *flag.Flag) { enforce = enforce || f.Name == "check-index" })
	var resp *structs.JobRegisterResponse
	if enforce {
		resp, err = client.Jobs().RegisterWithIndex(job, *checkIndex)
	} else {
		resp, err = client.Jobs().Register(job)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error submitting job: %v", err))
		return exitError
	}
	if w := strings.TrimSpace(resp.Warnings); w != "" {
		c.UI.Warn("Job Warnings:\n" + w + "\n")
	}
	if *detach {
		c.UI.Output(resp.EvalID)
		return exitOK
	}
	if resp.EvalID == "" {
		c.UI.Output("Job registration successful")
		return exitOK
	}
	ctx, stop := interruptible(c.ctx())
	defer stop()
	mon := &monitor{meta: &c.Meta, client: client, verbose: *verbose}
	if code := mon.run(ctx, resp.EvalID); code != exitOK {
		return code
	}
	return c.followJobDeployment(ctx, client, job.ID, *verbose)
}

// followJobDeployment follows the deployment of the version just
// registered, as Nomad's job run does; a run that made none (nothing to
// replace, or not a service job) is done.
func (c *JobRunCommand) followJobDeployment(ctx context.Context, client *api.Client, jobID string, verbose bool) int {
	current, _, err := client.Jobs().Info(jobID, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading job %q: %v", jobID, err))
		return exitError
	}
	if current.Type != structs.JobTypeService {
		return exitOK
	}
	d, _, err := client.Jobs().LatestDeployment(jobID, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading the deployment of job %q: %v", jobID, err))
		return exitError
	}
	if d == nil || d.JobVersion != current.Version || d.JobCreateIndex != current.CreateIndex {
		return exitOK
	}
	c.UI.Output("")
	return followDeployment(ctx, &c.Meta, client, d.ID, verbose)
}
