package command

import (
	"fmt"
	"strconv"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// formatDrainStrategy shows a drain in progress: its deadline and whether
// system jobs stay.
func formatDrainStrategy(d *structs.DrainStrategy, now time.Time) string {
	deadline := "none"
	switch infinite, at := d.DeadlineTime(); {
	case infinite:
	case at.IsZero():
		deadline = "forced"
	default:
		deadline = fmt.Sprintf("%s (%s left)", formatTime(at), at.Sub(now).Round(time.Second))
	}
	return formatKV([]string{
		"Deadline|" + deadline,
		"Started|" + formatTime(d.StartedAt),
		"Ignore System Jobs|" + strconv.FormatBool(d.IgnoreSystemJobs),
	})
}

// runningAllocs counts the allocations that run on a node.
func runningAllocs(client *api.Client, nodeID string) (int, error) {
	allocs, _, err := client.Nodes().Allocations(nodeID, nil)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range allocs {
		if a.ClientStatus == structs.AllocClientStatusRunning {
			n++
		}
	}
	return n, nil
}

// allocUtilization sums what the node's running allocations use now, as
// their clients measure it, against what they reserved. It is "" when no
// running allocation reports its usage (e.g. its client is unreachable).
func allocUtilization(client *api.Client, allocs []*structs.Allocation) string {
	var cpuMHz float64
	var memBytes uint64
	var cpuRes, memRes int64
	reported := 0
	for _, a := range allocs {
		if a.ClientStatus != structs.AllocClientStatusRunning || a.AllocatedResources == nil {
			continue
		}
		usage, err := client.Allocations().Stats(a.ID, nil)
		if err != nil || usage == nil || usage.ResourceUsage == nil {
			continue
		}
		reported++
		for _, t := range a.AllocatedResources.Tasks {
			cpuRes += t.Cpu.CpuShares
			memRes += t.Memory.MemoryMB
		}
		if ru := usage.ResourceUsage; ru.CpuStats != nil {
			cpuMHz += ru.CpuStats.TotalTicks
		}
		if m := usage.ResourceUsage.MemoryStats; m != nil {
			memBytes += max(m.RSS, m.Usage)
		}
	}
	if reported == 0 {
		return ""
	}
	return formatTable([][]string{
		{"CPU", "Memory"},
		{fmt.Sprintf("%.0f/%d MHz", cpuMHz, cpuRes), fmt.Sprintf("%s/%s", formatMiB(int64(memBytes>>20)), formatMiB(memRes))},
	})
}
