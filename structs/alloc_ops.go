package structs

import (
	"os"
	"time"
)

// The bodies of the allocation operations (restart, signal, stop, exec, fs,
// stats), in the JSON shapes of Nomad's API.

// AllocRestartRequest is the body of PUT /v1/client/allocation/:id/restart.
// An empty TaskName restarts every running task.
type AllocRestartRequest struct {
	TaskName string
	AllTasks bool
}

// AllocSignalRequest is the body of PUT /v1/client/allocation/:id/signal.
// An empty Task signals every running task; an empty Signal is SIGKILL.
type AllocSignalRequest struct {
	Task   string
	Signal string
}

// AllocStopResponse answers PUT /v1/allocation/:id/stop: the evaluation
// that replaces the allocation.
type AllocStopResponse struct {
	EvalID string
	Index  uint64
}

// GenericResponse answers client operations that return nothing.
type GenericResponse struct{}

// AllocFileInfo describes one file of an allocation's directory
// (/v1/client/fs/ls and /v1/client/fs/stat).
type AllocFileInfo struct {
	Name        string
	IsDir       bool
	Size        int64
	FileMode    string
	ModTime     time.Time
	ContentType string `json:",omitempty"`
}

// FileInfoOf describes fi as AllocFileInfo.
func FileInfoOf(fi os.FileInfo) *AllocFileInfo {
	return &AllocFileInfo{
		Name:     fi.Name(),
		IsDir:    fi.IsDir(),
		Size:     fi.Size(),
		FileMode: fi.Mode().String(),
		ModTime:  fi.ModTime(),
	}
}

// AllocResourceUsage answers /v1/client/allocation/:id/stats: the sum over
// the tasks, and each task's own.
type AllocResourceUsage struct {
	ResourceUsage *ResourceUsage
	Tasks         map[string]*TaskResourceUsage
	Timestamp     int64
}

// TaskResourceUsage is one task's usage.
type TaskResourceUsage struct {
	ResourceUsage *ResourceUsage
	Timestamp     int64
	Pids          map[string]*ResourceUsage
}

// ResourceUsage is memory and CPU use.
type ResourceUsage struct {
	MemoryStats *MemoryStats
	CpuStats    *CpuStats
	DeviceStats []any
}

// MemoryStats is memory use in bytes. Measured names the fields filled.
type MemoryStats struct {
	RSS            uint64
	Cache          uint64
	Swap           uint64
	MappedFile     uint64
	Usage          uint64
	MaxUsage       uint64
	KernelUsage    uint64
	KernelMaxUsage uint64
	Measured       []string
}

// CpuStats is CPU use: Percent of one core, and TotalTicks in MHz (the
// share of the node's CPU the task used, in the unit of resources.cpu).
type CpuStats struct {
	SystemMode       float64
	UserMode         float64
	TotalTicks       float64
	ThrottledPeriods uint64
	ThrottledTime    uint64
	Percent          float64
	Measured         []string
}

// Add sums u into r (for the allocation's total).
func (r *ResourceUsage) Add(u *ResourceUsage) {
	if u == nil {
		return
	}
	if u.MemoryStats != nil {
		if r.MemoryStats == nil {
			r.MemoryStats = &MemoryStats{Measured: u.MemoryStats.Measured}
		}
		m, o := r.MemoryStats, u.MemoryStats
		m.RSS += o.RSS
		m.Cache += o.Cache
		m.Swap += o.Swap
		m.MappedFile += o.MappedFile
		m.Usage += o.Usage
		m.MaxUsage += o.MaxUsage
		m.KernelUsage += o.KernelUsage
		m.KernelMaxUsage += o.KernelMaxUsage
	}
	if u.CpuStats != nil {
		if r.CpuStats == nil {
			r.CpuStats = &CpuStats{Measured: u.CpuStats.Measured}
		}
		c, o := r.CpuStats, u.CpuStats
		c.SystemMode += o.SystemMode
		c.UserMode += o.UserMode
		c.TotalTicks += o.TotalTicks
		c.ThrottledPeriods += o.ThrottledPeriods
		c.ThrottledTime += o.ThrottledTime
		c.Percent += o.Percent
	}
}

// HostStats answers /v1/client/stats: what the node's machine uses.
type HostStats struct {
	Memory           *HostMemoryStats
	CPU              []*HostCPUStats
	DiskStats        []*HostDiskStats
	AllocDirStats    *HostDiskStats
	DeviceStats      []any
	Uptime           uint64
	Timestamp        int64
	CPUTicksConsumed float64
}

// HostMemoryStats is the machine's memory in bytes.
type HostMemoryStats struct {
	Total     uint64
	Available uint64
	Used      uint64
	Free      uint64
}

// HostCPUStats is one CPU's time split, in percent.
type HostCPUStats struct {
	CPU    string
	User   float64
	System float64
	Idle   float64
}

// HostDiskStats is one file system's use.
type HostDiskStats struct {
	Device            string
	Mountpoint        string
	Size              uint64
	Used              uint64
	Available         uint64
	UsedPercent       float64
	InodesUsedPercent float64
}

// The frames of the exec websocket (/v1/client/allocation/:id/exec), as
// Nomad's: the caller sends ExecStreamingInput, the agent answers
// ExecStreamingOutput, the last one with Exited and Result.

// ExecStreamingIOOperation is a piece of a stream, or its end (Close).
type ExecStreamingIOOperation struct {
	Data  []byte `json:"data,omitempty"`
	Close bool   `json:"close,omitempty"`
}

// TerminalSize is the caller's terminal size.
type TerminalSize struct {
	Height int `json:"height,omitempty"`
	Width  int `json:"width,omitempty"`
}

// ExecStreamingInput is one frame from the caller.
type ExecStreamingInput struct {
	Stdin   *ExecStreamingIOOperation `json:"stdin,omitempty"`
	TTYSize *TerminalSize             `json:"tty_size,omitempty"`
}

// ExecStreamingExitResult is how the command ended.
type ExecStreamingExitResult struct {
	ExitCode int `json:"exit_code"`
}

// ExecStreamingOutput is one frame from the agent.
type ExecStreamingOutput struct {
	Stdout *ExecStreamingIOOperation `json:"stdout,omitempty"`
	Stderr *ExecStreamingIOOperation `json:"stderr,omitempty"`
	Exited bool                      `json:"exited,omitempty"`
	Result *ExecStreamingExitResult  `json:"result,omitempty"`
}
