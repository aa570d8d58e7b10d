package command

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// JobStatusCommand is "drover job status": all jobs, or one in detail.
type JobStatusCommand struct {
	Meta
	verbose bool
}

func (c *JobStatusCommand) Synopsis() string { return "Show the status of jobs" }

func (c *JobStatusCommand) Help() string {
	return helpText(`
Usage: drover job status [options] [job]

  Without a job, list every job. With a job ID (or a unique prefix of one),
  show the job, a summary of its allocations per group, why any could not
  be placed, and its allocations.

Status Options:

  -all-allocs
    Also show allocations of earlier jobs that had the same ID.

  -verbose
    Show full IDs and full times.`, true)
}

func (c *JobStatusCommand) Run(args []string) int {
	fs := c.flagSet("job status")
	fs.BoolVar(&c.verbose, "verbose", false, "")
	allAllocs := fs.Bool("all-allocs", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() > 1 {
		return c.usageError("job status", "This command takes at most one argument: [job]")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	if fs.NArg() == 0 {
		return c.list(client)
	}
	stub, err := client.Jobs().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(resolveError("job", err))
		return exitError
	}
	return c.show(client, stub.ID, *allAllocs)
}

// list prints the table of all jobs.
func (c *JobStatusCommand) list(client *api.Client) int {
	jobs, _, err := client.Jobs().List(nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error listing jobs: %v", err))
		return exitError
	}
	if len(jobs) == 0 {
		c.UI.Output("No running jobs")
		return exitOK
	}
	slices.SortFunc(jobs, func(a, b *structs.JobListStub) int { return cmp.Compare(a.ID, b.ID) })
	rows := [][]string{{"ID", "Type", "Priority", "Status", "Submit Date"}}
	for _, j := range jobs {
		rows = append(rows, []string{j.ID, j.Type, strconv.Itoa(j.Priority), jobStatus(j.Status, j.Stop), formatTime(unixNano(j.SubmitTime))})
	}
	c.UI.Output(formatTable(rows))
	return exitOK
}

// show prints one job in detail.
func (c *JobStatusCommand) show(client *api.Client, jobID string, allAllocs bool) int {
	job, _, err := client.Jobs().Info(jobID, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading job %q: %v", jobID, err))
		return exitError
	}
	c.UI.Output(formatKV([]string{
		"ID|" + job.ID,
		"Name|" + job.Name,
		"Submit Date|" + formatTime(unixNano(job.SubmitTime)),
		"Type|" + job.Type,
		"Priority|" + strconv.Itoa(job.Priority),
		"Datacenters|" + strings.Join(job.Datacenters, ","),
		"Namespace|" + job.Namespace,
		"Node Pool|" + job.NodePool,
		"Status|" + jobStatus(job.Status, job.Stop),
		"Version|" + strconv.FormatUint(job.Version, 10),
	}))

	summary, _, err := client.Jobs().Summary(jobID, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading summary of job %q: %v", jobID, err))
		return exitError
	}
	c.UI.Output("\nSummary")
	c.UI.Output(formatSummary(summary))

	evals, _, err := client.Jobs().Evaluations(jobID, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading evaluations of job %q: %v", jobID, err))
		return exitError
	}
	if failed := latestPlacementFailure(evals); failed != nil {
		c.UI.Output("\nPlacement Failure")
		c.UI.Output(formatPlacementFailures(failed.FailedTGAllocs, ""))
	}

	// The latest deployment, as Nomad shows it (deployment.go).
	if d, _, err := client.Jobs().LatestDeployment(jobID, nil); err != nil {
		c.UI.Error(fmt.Sprintf("Error reading the latest deployment of job %q: %v", jobID, err))
		return exitError
	} else if d != nil {
		c.UI.Output("\nLatest Deployment")
		c.UI.Output(formatKV([]string{"ID|" + shortID(d.ID, c.verbose), "Status|" + d.Status, "Description|" + d.StatusDescription}))
		c.UI.Output("\nDeployed")
		c.UI.Output(formatDeploymentGroups(d))
	}

	allocs, _, err := client.Jobs().Allocations(jobID, allAllocs, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading allocations of job %q: %v", jobID, err))
		return exitError
	}
	c.UI.Output("\nAllocations")
	if len(allocs) == 0 {
		c.UI.Output("No allocations placed")
		return exitOK
	}
	c.UI.Output(formatAllocTable(allocs, c.now(), c.verbose, "Node ID"))
	return exitOK
}

// jobStatus shows a stopped job as Nomad does.
func jobStatus(status string, stop bool) string {
	if stop && status == structs.JobStatusDead {
		return "dead (stopped)"
	}
	return status
}

// formatSummary tabulates allocation counts per group.
func formatSummary(s *structs.JobSummary) string {
	rows := [][]string{{"Task Group", "Queued", "Starting", "Running", "Failed", "Complete", "Lost", "Unknown"}}
	for _, group := range sortedKeys(s.Summary) {
		g := s.Summary[group]
		rows = append(rows, []string{group, strconv.Itoa(g.Queued), strconv.Itoa(g.Starting), strconv.Itoa(g.Running),
			strconv.Itoa(g.Failed), strconv.Itoa(g.Complete), strconv.Itoa(g.Lost), strconv.Itoa(g.Unknown)})
	}
	return formatTable(rows)
}

// latestPlacementFailure returns the newest evaluation that could not place
// everything, while a blocked evaluation still waits to place the rest;
// nil when nothing waits.
func latestPlacementFailure(evals []*structs.Evaluation) *structs.Evaluation {
	var latest *structs.Evaluation
	waiting := false
	for _, e := range evals {
		if len(e.FailedTGAllocs) > 0 && (latest == nil || e.CreateIndex > latest.CreateIndex) {
			latest = e
		}
		waiting = waiting || e.Status == structs.EvalStatusBlocked
	}
	if !waiting {
		return nil
	}
	return latest
}

// formatAllocTable tabulates allocations, newest first. second names the
// second column: "Node ID" on a job's page, "Job ID" on a node's.
func formatAllocTable(allocs []*structs.AllocListStub, now time.Time, verbose bool, second string) string {
	slices.SortFunc(allocs, func(a, b *structs.AllocListStub) int {
		return cmp.Or(cmp.Compare(b.CreateIndex, a.CreateIndex), cmp.Compare(a.ID, b.ID))
	})
	rows := [][]string{{"ID", second, "Task Group", "Version", "Desired", "Status", "Created", "Modified"}}
	for _, a := range allocs {
		other := shortID(a.NodeID, verbose)
		if second == "Job ID" {
			other = a.JobID
		}
		rows = append(rows, []string{
			shortID(a.ID, verbose), other, a.TaskGroup, strconv.FormatUint(a.JobVersion, 10),
			a.DesiredStatus, a.ClientStatus,
			timeCell(now, unixNano(a.CreateTime), verbose), timeCell(now, unixNano(a.ModifyTime), verbose),
		})
	}
	return formatTable(rows)
}

// resolveError words a failed prefix lookup for the user.
func resolveError(kind string, err error) string {
	var none *api.NoMatchError
	var ambiguous *api.AmbiguousError
	switch {
	case errors.As(err, &none), errors.As(err, &ambiguous):
		return err.Error()
	}
	return fmt.Sprintf("Error looking up %s: %v", kind, err)
}
