package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/client/driver"
)

var _ driver.StatsDriver = (*Driver)(nil)

// TaskStats implements driver.StatsDriver with one sample from the engine.
// The engine takes a previous sample a second earlier so the CPU share can
// be computed, which makes each call take about a second.
func (d *Driver) TaskStats(ctx context.Context, h *driver.TaskHandle) (*driver.TaskResourceUsage, error) {
	if h == nil || h.ContainerID == "" {
		return nil, errors.New("docker: stats: handle has no container ID")
	}
	res, err := d.cli.ContainerStats(ctx, h.ContainerID, client.ContainerStatsOptions{IncludePreviousSample: true})
	switch {
	case cerrdefs.IsNotFound(err):
		return nil, fmt.Errorf("docker: stats: container %s: %w", h.ContainerID, driver.ErrTaskNotFound)
	case err != nil:
		return nil, fmt.Errorf("docker: stats of container %s: %w", h.ContainerID, err)
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("docker: stats of container %s: decoding: %w", h.ContainerID, err)
	}
	return usageOf(&s), nil
}

// usageOf turns the engine's sample into drover's, as `docker stats`
// computes it: the CPU share is the container's CPU time over the host's
// in the sampled second, times the number of CPUs. Memory names differ
// between cgroup v1 (rss, cache) and v2 (anon, file).
func usageOf(s *container.StatsResponse) *driver.TaskResourceUsage {
	u := &driver.TaskResourceUsage{Timestamp: s.Read}

	m := s.MemoryStats
	u.Usage, u.MaxUsage = m.Usage, m.MaxUsage
	u.MemoryMeasured = []string{"Usage"}
	if m.MaxUsage > 0 {
		u.MemoryMeasured = append(u.MemoryMeasured, "Max Usage")
	}
	if rss, ok := m.Stats["rss"]; ok { // cgroup v1
		u.RSS, u.Cache, u.Swap = rss, m.Stats["cache"], m.Stats["swap"]
		u.MemoryMeasured = append(u.MemoryMeasured, "RSS", "Cache", "Swap")
	} else if anon, ok := m.Stats["anon"]; ok { // cgroup v2
		u.RSS, u.Cache = anon, m.Stats["file"]
		u.MemoryMeasured = append(u.MemoryMeasured, "RSS", "Cache")
	}

	cpu, pre := s.CPUStats, s.PreCPUStats
	cpus := float64(cpu.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(cpu.CPUUsage.PercpuUsage))
	}
	sysDelta := float64(cpu.SystemUsage) - float64(pre.SystemUsage)
	if sysDelta > 0 && pre.SystemUsage > 0 && cpu.CPUUsage.TotalUsage >= pre.CPUUsage.TotalUsage {
		share := func(now, before uint64) float64 {
			if now < before {
				return 0
			}
			return float64(now-before) / sysDelta * cpus * 100
		}
		u.Percent = share(cpu.CPUUsage.TotalUsage, pre.CPUUsage.TotalUsage)
		u.UserMode = share(cpu.CPUUsage.UsageInUsermode, pre.CPUUsage.UsageInUsermode)
		u.SystemMode = share(cpu.CPUUsage.UsageInKernelmode, pre.CPUUsage.UsageInKernelmode)
		u.CPUMeasured = []string{"Percent", "User Mode", "System Mode"}
	}
	u.ThrottledPeriods = cpu.ThrottlingData.ThrottledPeriods
	u.ThrottledTime = cpu.ThrottlingData.ThrottledTime
	u.CPUMeasured = append(u.CPUMeasured, "Throttled Periods", "Throttled Time")
	return u
}
