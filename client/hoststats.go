package client

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drover-project/drover/structs"
)

// cpuSampleInterval is how far apart the two readings of /proc/stat are
// that give the CPUs' current split between user, system and idle.
const cpuSampleInterval = 250 * time.Millisecond

// HostStats samples what the machine uses (/v1/client/stats): memory, the
// CPUs over a short interval, the disk of the data directory, and uptime.
func (c *Client) HostStats(ctx context.Context) (*structs.HostStats, error) {
	out := &structs.HostStats{Timestamp: time.Now().UnixNano()}
	mem, err := readHostMemory()
	if err != nil {
		return nil, err
	}
	out.Memory = mem

	before, err := readCPUTimes()
	if err != nil {
		return nil, err
	}
	select {
	case <-time.After(cpuSampleInterval):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	after, err := readCPUTimes()
	if err != nil {
		return nil, err
	}
	var busy float64
	for _, name := range after.order {
		a, b := after.times[name], before.times[name]
		total := a.total() - b.total()
		if total <= 0 {
			continue
		}
		s := &structs.HostCPUStats{
			CPU:    name,
			User:   100 * (a.user - b.user) / total,
			System: 100 * (a.system - b.system) / total,
			Idle:   100 * (a.idle - b.idle) / total,
		}
		out.CPU = append(out.CPU, s)
		busy += 100 - s.Idle
	}
	if len(out.CPU) > 0 {
		out.CPUTicksConsumed = busy / 100 * c.mhzPerCore()
	}

	if disk, err := diskStats(c.cfg.DataDir); err == nil {
		out.AllocDirStats = disk
		out.DiskStats = []*structs.HostDiskStats{disk}
	} else {
		c.logger.Debug("disk stats unavailable", "error", err)
	}
	if data, err := os.ReadFile("/proc/uptime"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			up, _ := strconv.ParseFloat(f[0], 64)
			out.Uptime = uint64(up)
		}
	}
	return out, nil
}

// readHostMemory reads /proc/meminfo (values in kB).
func readHostMemory() (*structs.HostMemoryStats, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil, fmt.Errorf("host stats: %w", err)
	}
	kb := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			kb[strings.TrimSuffix(f[0], ":")] = n << 10
		}
	}
	m := &structs.HostMemoryStats{Total: kb["MemTotal"], Available: kb["MemAvailable"], Free: kb["MemFree"]}
	if m.Total >= m.Available {
		m.Used = m.Total - m.Available
	}
	return m, nil
}

type cpuTime struct{ user, system, idle, other float64 }

func (t cpuTime) total() float64 { return t.user + t.system + t.idle + t.other }

type cpuTimes struct {
	order []string
	times map[string]cpuTime
}

// readCPUTimes reads the per-CPU lines of /proc/stat (cpu0, cpu1, ...).
func readCPUTimes() (*cpuTimes, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, fmt.Errorf("host stats: %w", err)
	}
	out := &cpuTimes{times: map[string]cpuTime{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		v := make([]float64, len(f)-1)
		for i, s := range f[1:] {
			v[i], _ = strconv.ParseFloat(s, 64)
		}
		// user nice system idle iowait irq softirq steal ...
		t := cpuTime{user: v[0] + v[1], system: v[2], idle: v[3]}
		for _, x := range v[4:] {
			t.other += x
		}
		out.order = append(out.order, f[0])
		out.times[f[0]] = t
	}
	return out, nil
}

// diskStats describes the file system holding dir.
func diskStats(dir string) (*structs.HostDiskStats, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil, err
	}
	size := st.Blocks * uint64(st.Bsize)
	avail := st.Bavail * uint64(st.Bsize)
	used := size - st.Bfree*uint64(st.Bsize)
	d := &structs.HostDiskStats{Device: dir, Mountpoint: dir, Size: size, Used: used, Available: avail}
	if size > 0 {
		d.UsedPercent = 100 * float64(used) / float64(size)
	}
	if st.Files > 0 {
		d.InodesUsedPercent = 100 * float64(st.Files-st.Ffree) / float64(st.Files)
	}
	return d, nil
}
