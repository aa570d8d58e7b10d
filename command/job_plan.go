package command

import (
	"fmt"
	"strings"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/structs"
)

func init() {
	Register("job plan", func(m Meta) cli.Command { return &JobPlanCommand{Meta: m} })
}

// Exit codes of "job plan", as Nomad's.
const (
	exitPlanNoChanges = 0
	exitPlanChanges   = 1
	exitPlanError     = 255
)

// JobPlanCommand is "drover job plan": what running a job file would do.
type JobPlanCommand struct {
	Meta
	jobFile jobFileFlags
}

func (c *JobPlanCommand) Synopsis() string { return "Dry-run a job update to see its effects" }

func (c *JobPlanCommand) Help() string {
	return helpText(`
Usage: drover job plan [options] <path>

  Parse the job file at path ("-" reads standard input) and ask the
  scheduler what submitting it would do, without doing it: the difference
  from the running version of the job, what would happen to each group's
  allocations (create, destroy, in-place update, create/destroy update,
  ignore), and which allocations could not be placed and why.

  The plan ends with the job's modify index. Submitting with
  "drover job run -check-index <index>" runs the job only if nobody changed
  it in the meantime, so what runs is what was planned.

  Exit codes: 0 when no allocations would be created or destroyed, 1 when
  some would be, 255 on errors.

Plan Options:

  -diff
    Show the difference between the running job and the planned one
    (default true).

  -verbose
    Show unchanged fields around the changes too.

`+jobFileOptionsHelp, true)
}

func (c *JobPlanCommand) Run(args []string) int {
	fs := c.flagSet("job plan")
	diff := fs.Bool("diff", true, "")
	verbose := fs.Bool("verbose", false, "")
	c.jobFile.register(fs)
	if !c.parseFlags(fs, args) {
		return exitPlanError
	}
	if fs.NArg() != 1 {
		c.usageError("job plan", "This command takes one argument: <path>")
		return exitPlanError
	}
	path := fs.Arg(0)
	job, err := c.jobFile.readJobFile(path, c.Stdin)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error parsing job file %s:\n%v", path, err))
		return exitPlanError
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitPlanError
	}
	resp, err := client.Jobs().Plan(job, *diff)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error during plan: %v", err))
		return exitPlanError
	}
	if w := strings.TrimSpace(resp.Warnings); w != "" {
		c.UI.Warn("Job Warnings:\n" + w + "\n")
	}
	if *diff && resp.Diff != nil {
		c.UI.Output(formatJobDiff(resp.Diff, *verbose))
		c.UI.Output("")
	}
	c.UI.Output(formatDryRun(resp))
	if resp.Annotations != nil && len(resp.Annotations.PreemptedAllocs) > 0 {
		c.UI.Output(formatPreemptions(resp.Annotations.PreemptedAllocs, *verbose))
	}
	c.UI.Output(formatCheckIndexHint(resp.JobModifyIndex, path))
	if resp.Annotations.Changes() {
		return exitPlanChanges
	}
	return exitPlanNoChanges
}

// formatDryRun says whether every allocation would be placed.
func formatDryRun(resp *structs.JobPlanResponse) string {
	var b strings.Builder
	b.WriteString("Scheduler dry-run:\n")
	if len(resp.FailedTGAllocs) == 0 {
		b.WriteString("- All tasks successfully allocated.\n")
	} else {
		b.WriteString("- WARNING: Failed to place all allocations.\n")
		b.WriteString(formatPlacementFailures(resp.FailedTGAllocs, "  "))
		b.WriteString("\n")
	}
	return b.String()
}

// formatPreemptions lists the allocations the plan would evict.
func formatPreemptions(allocs []*structs.AllocListStub, verbose bool) string {
	rows := [][]string{{"Alloc ID", "Job ID", "Task Group"}}
	for _, a := range allocs {
		rows = append(rows, []string{shortID(a.ID, verbose), a.JobID, a.TaskGroup})
	}
	return "Preemptions:\n\n" + formatTable(rows) + "\n"
}

func formatCheckIndexHint(index uint64, path string) string {
	return fmt.Sprintf(`Job Modify Index: %d
To submit the job with version verification run:

drover job run -check-index %d %s

When running the job with the check-index flag, the job will only be run if the
job modify index given matches the server-side version. If the index has
changed, another user has modified the job and the plan's results are
potentially invalid.`, index, index, path)
}

// diffMarker is how a diff line starts: "+" added, "-" deleted, "+/-"
// edited, nothing for unchanged.
func diffMarker(diffType string) string {
	switch diffType {
	case structs.DiffTypeAdded:
		return "+ "
	case structs.DiffTypeDeleted:
		return "- "
	case structs.DiffTypeEdited:
		return "+/- "
	}
	return "  "
}

// formatJobDiff prints the diff the way Nomad's `job plan` does. Unchanged
// fields and objects are left out unless verbose; unchanged groups and
// tasks are listed by name, since their counts still matter.
func formatJobDiff(d *structs.JobDiff, verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sJob: %q\n", diffMarker(d.Type), d.ID)
	writeFields(&b, d.Fields, "", verbose)
	writeObjects(&b, d.Objects, "", verbose)
	for _, g := range d.TaskGroups {
		fmt.Fprintf(&b, "%sTask Group: %q%s\n", diffMarker(g.Type), g.Name, formatUpdates(g.Updates))
		writeFields(&b, g.Fields, "  ", verbose)
		writeObjects(&b, g.Objects, "  ", verbose)
		for _, t := range g.Tasks {
			note := ""
			if len(t.Annotations) > 0 {
				note = " (" + strings.Join(t.Annotations, ", ") + ")"
			}
			fmt.Fprintf(&b, "  %sTask: %q%s\n", diffMarker(t.Type), t.Name, note)
			writeFields(&b, t.Fields, "    ", verbose)
			writeObjects(&b, t.Objects, "    ", verbose)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// updateOrder is the order Nomad lists a group's updates in.
var updateOrder = []string{
	structs.UpdateTypeCreate, structs.UpdateTypeDestroy, structs.UpdateTypeMigrate, structs.UpdateTypeCanary,
	structs.UpdateTypeInplaceUpdate, structs.UpdateTypeDestructiveUpdate, structs.UpdateTypeIgnore,
}

// formatUpdates is a group's " (1 create, 2 ignore)".
func formatUpdates(updates map[string]uint64) string {
	var parts []string
	for _, kind := range updateOrder {
		if n := updates[kind]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, kind))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func writeFields(b *strings.Builder, fields []*structs.FieldDiff, indent string, verbose bool) {
	for _, f := range fields {
		if f.Type == structs.DiffTypeNone && !verbose {
			continue
		}
		note := ""
		if len(f.Annotations) > 0 {
			note = " (" + strings.Join(f.Annotations, ", ") + ")"
		}
		switch f.Type {
		case structs.DiffTypeAdded:
			fmt.Fprintf(b, "%s+ %s: %q%s\n", indent, f.Name, f.New, note)
		case structs.DiffTypeDeleted:
			fmt.Fprintf(b, "%s- %s: %q%s\n", indent, f.Name, f.Old, note)
		case structs.DiffTypeEdited:
			fmt.Fprintf(b, "%s+/- %s: %q => %q%s\n", indent, f.Name, f.Old, f.New, note)
		default:
			fmt.Fprintf(b, "%s  %s: %q%s\n", indent, f.Name, f.New, note)
		}
	}
}

func writeObjects(b *strings.Builder, objects []*structs.ObjectDiff, indent string, verbose bool) {
	for _, o := range objects {
		if o.Type == structs.DiffTypeNone && !verbose {
			continue
		}
		fmt.Fprintf(b, "%s%s%s {\n", indent, diffMarker(o.Type), o.Name)
		inner := indent + "  "
		writeFields(b, o.Fields, inner, verbose || o.Type != structs.DiffTypeEdited)
		writeObjects(b, o.Objects, inner, verbose || o.Type != structs.DiffTypeEdited)
		fmt.Fprintf(b, "%s}\n", inner)
	}
}
