package command

import (
	"fmt"
	"strings"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// Resource usage as `alloc status -stats` and `node status -stats` show
// it, in Nomad's layout.

// formatTaskStats shows one task's sampled usage, or nothing without -stats.
func (c *AllocStatusCommand) formatTaskStats(task string) string {
	if c.stats == nil {
		return ""
	}
	tu := c.stats.Tasks[task]
	if tu == nil || tu.ResourceUsage == nil {
		return "" // not running: nothing was sampled
	}
	var b strings.Builder
	if m := tu.ResourceUsage.MemoryStats; m != nil {
		b.WriteString("\n\nMemory Stats\n")
		b.WriteString(formatTable([][]string{
			{"Cache", "Max Usage", "RSS", "Swap", "Usage"},
			{formatBytes(m.Cache), formatBytes(m.MaxUsage), formatBytes(m.RSS), formatBytes(m.Swap), formatBytes(m.Usage)},
		}))
	}
	if cpu := tu.ResourceUsage.CpuStats; cpu != nil {
		b.WriteString("\n\nCPU Stats\n")
		b.WriteString(formatTable([][]string{
			{"Percent", "System Mode", "User Mode", "Total Ticks", "Throttled Periods", "Throttled Time"},
			{fmt.Sprintf("%.2f%%", cpu.Percent), fmt.Sprintf("%.2f%%", cpu.SystemMode), fmt.Sprintf("%.2f%%", cpu.UserMode),
				fmt.Sprintf("%.0f MHz", cpu.TotalTicks), fmt.Sprint(cpu.ThrottledPeriods), fmt.Sprint(cpu.ThrottledTime)},
		}))
	}
	return b.String()
}

// showHostStats prints what the node's machine uses.
func (c *NodeStatusCommand) showHostStats(client *api.Client, node *structs.Node) error {
	hs, err := client.Nodes().Stats(node.ID, nil)
	if err != nil {
		return err
	}
	var totalMHz int64
	if node.NodeResources != nil {
		totalMHz = node.NodeResources.Cpu.CpuShares
	}
	row := []string{fmt.Sprintf("%.0f/%d MHz", hs.CPUTicksConsumed, totalMHz), "", ""}
	if m := hs.Memory; m != nil {
		row[1] = formatBytes(m.Used) + "/" + formatBytes(m.Total)
	}
	if d := hs.AllocDirStats; d != nil {
		row[2] = formatBytes(d.Used) + "/" + formatBytes(d.Size)
	}
	c.UI.Output("\nHost Resource Utilization")
	c.UI.Output(formatTable([][]string{{"CPU", "Memory", "Disk"}, row}))

	if len(hs.CPU) > 0 {
		rows := [][]string{{"CPU", "User", "System", "Idle"}}
		for _, s := range hs.CPU {
			rows = append(rows, []string{s.CPU, fmt.Sprintf("%.2f%%", s.User), fmt.Sprintf("%.2f%%", s.System), fmt.Sprintf("%.2f%%", s.Idle)})
		}
		c.UI.Output("\nCPU Stats")
		c.UI.Output(formatTable(rows))
	}
	if m := hs.Memory; m != nil {
		c.UI.Output("\nMemory Stats")
		c.UI.Output(formatKV([]string{
			"Total|" + formatBytes(m.Total), "Available|" + formatBytes(m.Available),
			"Used|" + formatBytes(m.Used), "Free|" + formatBytes(m.Free),
		}))
	}
	if len(hs.DiskStats) > 0 {
		rows := [][]string{{"Mountpoint", "Size", "Used", "Available", "Used %", "Inodes %"}}
		for _, d := range hs.DiskStats {
			rows = append(rows, []string{d.Mountpoint, formatBytes(d.Size), formatBytes(d.Used), formatBytes(d.Available),
				fmt.Sprintf("%.2f%%", d.UsedPercent), fmt.Sprintf("%.2f%%", d.InodesUsedPercent)})
		}
		c.UI.Output("\nDisk Stats")
		c.UI.Output(formatTable(rows))
	}
	return nil
}

// formatBytes shows a size with a binary unit, as Nomad's humanize does.
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
