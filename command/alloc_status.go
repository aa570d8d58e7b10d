package command

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-project/drover/structs"
)

// AllocStatusCommand is "drover alloc status": one allocation in detail,
// with its tasks' recent events.
type AllocStatusCommand struct {
	Meta
	// stats is the tasks' usage when -stats asks for it (alloc_stats.go).
	stats *structs.AllocResourceUsage
}

func (c *AllocStatusCommand) Synopsis() string { return "Show the status of an allocation" }

func (c *AllocStatusCommand) Help() string {
	return helpText(`
Usage: drover alloc status [options] <allocation>

  Show the allocation with the given ID (or unique prefix of one): where it
  runs, what the servers want of it, what its client reports, its
  addresses, and for each task its resources and recent events.

Status Options:

  -verbose
    Show full IDs and full times.

  -stats
    Also show what each running task uses (CPU, memory), sampled from the
    engine.`, true)
}

func (c *AllocStatusCommand) Run(args []string) int {
	fs := c.flagSet("alloc status")
	verbose := fs.Bool("verbose", false, "")
	showStats := fs.Bool("stats", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("alloc status", "This command takes one argument: <allocation>")
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	stub, err := client.Allocations().Resolve(fs.Arg(0), nil)
	if err != nil {
		c.UI.Error(resolveError("allocation", err))
		return exitError
	}
	alloc, _, err := client.Allocations().Info(stub.ID, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading allocation %q: %v", stub.ID, err))
		return exitError
	}
	if *showStats && alloc.ClientStatus == structs.AllocClientStatusRunning {
		if c.stats, err = client.Allocations().Stats(alloc.ID, nil); err != nil {
			c.UI.Error(fmt.Sprintf("Error reading the stats of allocation %q: %v", alloc.ID, err))
			return exitError
		}
	}
	c.UI.Output(c.format(alloc, *verbose))
	return exitOK
}

// format lays the allocation out as Nomad's alloc status does.
func (c *AllocStatusCommand) format(a *structs.Allocation, verbose bool) string {
	now := c.now()
	var version string
	if a.Job != nil {
		version = strconv.FormatUint(a.Job.Version, 10)
	}
	var b strings.Builder
	rows := []string{
		"ID|" + shortID(a.ID, verbose),
		"Eval ID|" + shortID(a.EvalID, verbose),
		"Name|" + a.Name,
		"Node ID|" + shortID(a.NodeID, verbose),
		"Node Name|" + orNone(a.NodeName),
		"Job ID|" + a.JobID,
		"Job Version|" + orNone(version),
		"Client Status|" + a.ClientStatus,
		"Client Description|" + orNone(a.ClientDescription),
		"Desired Status|" + a.DesiredStatus,
		"Desired Description|" + orNone(a.DesiredDescription),
		"Created|" + timeCell(now, unixNano(a.CreateTime), verbose),
		"Modified|" + timeCell(now, unixNano(a.ModifyTime), verbose),
	}
	rows = append(rows, schedulingRows(a, verbose)...)
	b.WriteString(formatKV(rows))
	if a.AllocatedResources != nil && len(a.AllocatedResources.Shared.Ports) > 0 {
		b.WriteString("\n\nAllocation Addresses:\n")
		b.WriteString(formatAddresses(a.AllocatedResources.Shared.Ports))
	}
	for _, task := range taskNames(a) {
		b.WriteString("\n\n")
		b.WriteString(c.formatTask(a, task))
	}
	return b.String()
}

// taskNames lists the allocation's tasks: those of its group, and any the
// client reported that the group no longer names.
func taskNames(a *structs.Allocation) []string {
	var names []string
	if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil {
		for _, t := range tg.Tasks {
			names = append(names, t.Name)
		}
	}
	for name := range a.TaskStates {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// formatAddresses tabulates the group's ports.
func formatAddresses(ports []structs.AllocatedPortMapping) string {
	rows := [][]string{{"Label", "Address"}}
	for _, p := range ports {
		addr := fmt.Sprintf("%s:%d", p.HostIP, p.Value)
		if p.To > 0 && p.To != p.Value {
			addr += fmt.Sprintf(" -> %d", p.To)
		}
		rows = append(rows, []string{p.Label, addr})
	}
	return formatTable(rows)
}

// formatTask shows one task's state, resources and recent events, newest first.
func (c *AllocStatusCommand) formatTask(a *structs.Allocation, task string) string {
	state := a.TaskStates[task]
	status := structs.TaskStatePending
	if state != nil {
		status = state.State
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Task %q is %q", task, status)
	if res := a.AllocatedResources; res != nil && res.Tasks[task] != nil {
		r := res.Tasks[task]
		b.WriteString("\nTask Resources:\n")
		b.WriteString(formatTable([][]string{
			{"CPU", "Memory"},
			{fmt.Sprintf("%d MHz", r.Cpu.CpuShares), formatMiB(r.Memory.MemoryMB)},
		}))
	}
	b.WriteString(c.formatTaskStats(task))
	b.WriteString("\n\nRecent Events:\n")
	rows := [][]string{{"Time", "Type", "Description"}}
	if state != nil {
		for _, e := range slices.Backward(state.Events) {
			rows = append(rows, []string{formatTime(unixNano(e.Time)), e.Type, describeEvent(e)})
		}
	}
	b.WriteString(formatTable(rows))
	return b.String()
}

// describeEvent says what a task event means: its display message when the
// client wrote one, else words made from its type and details.
func describeEvent(e *structs.TaskEvent) string {
	if e.DisplayMessage != "" {
		return e.DisplayMessage
	}
	switch e.Type {
	case structs.TaskReceived:
		return "Task received by client"
	case structs.TaskSetup:
		return cmp.Or(e.Message, "Building Task Directory")
	case structs.TaskStarted:
		return "Task started by client"
	case structs.TaskTerminated:
		s := fmt.Sprintf("Exit Code: %d", e.ExitCode)
		if e.Signal != 0 {
			s += fmt.Sprintf(", Signal: %d", e.Signal)
		}
		if e.Message != "" {
			s += ", Exit Message: " + strconv.Quote(e.Message)
		}
		return s
	case structs.TaskRestarting:
		s := "Task restarting"
		if e.StartDelay > 0 {
			s += " in " + time.Duration(e.StartDelay).String()
		}
		return s
	case structs.TaskNotRestarting:
		return cmp.Or(e.Message, "Task will not be restarted")
	case structs.TaskKilling:
		return fmt.Sprintf("Sent interrupt. Waiting %s before force killing", e.KillTimeout)
	case structs.TaskKilled:
		return "Task successfully killed"
	case structs.TaskDriverFailure, structs.TaskSetupFailure:
		return cmp.Or(e.DriverError, e.Message)
	case structs.TaskDownloadingImage:
		return cmp.Or(e.Message, "Downloading image")
	}
	return e.Message
}
