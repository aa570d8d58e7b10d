// Package driver defines how the client runs one task. The core of the
// client (allocrunner, taskrunner) only knows this interface, so Docker stays
// behind driver/docker and scheduler-scale tests can use driver/mock.
package driver

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrTaskNotFound is wrapped by drivers when the task they are asked about
// no longer exists (e.g. its container was removed out of band), so the
// taskrunner can tell a lost task from a driver it cannot reach right now.
var ErrTaskNotFound = errors.New("task not found")

// TaskConfig is everything a driver needs to start one task. The taskrunner
// builds it from the job (with runtime variables already filled in).
type TaskConfig struct {
	// Identity, used for the container name and labels.
	AllocID   string
	Namespace string
	JobID     string
	JobName   string
	GroupName string
	TaskName  string

	// From the task's docker `config` block.
	Image      string
	Command    string
	Args       []string
	Entrypoint []string
	Labels     map[string]string
	// PortLabels are the labels listed in config.ports: only these are
	// published for this task.
	PortLabels []string

	Env map[string]string

	// Ports of the group network, as assigned by the scheduler.
	Ports []PortMapping

	// Resources.
	CPUShares int // MHz, used as Docker CPU shares
	MemoryMB  int

	// Where stdout and stderr go (files in the allocation's log dir).
	StdoutPath string
	StderrPath string

	// KillTimeout is how long StopTask waits after the signal before killing.
	KillTimeout time.Duration

	// The group's pod-like sharing: see pod.go.
	Pod
}

// PortMapping is one port of the group network: HostPort on HostIP is
// forwarded to ContainerPort (the port's `to`, or HostPort when `to` is 0).
type PortMapping struct {
	Label         string
	HostIP        string
	HostPort      int
	ContainerPort int
}

// TaskHandle identifies a started task so it can be waited on, stopped and
// recovered after a client restart. It is stored in the client's state.
type TaskHandle struct {
	Driver      string
	ContainerID string
	StartedAt   time.Time
	// Config is kept so a recovered handle can reopen its log files.
	Config *TaskConfig
}

// ExitResult says how a task ended.
type ExitResult struct {
	ExitCode   int
	Signal     int
	OOMKilled  bool
	FinishedAt time.Time
	// Err is set when the driver lost track of the task (e.g. the container
	// was removed out of band), as opposed to the task exiting.
	Err error
}

// Successful reports whether the task exited cleanly.
func (r *ExitResult) Successful() bool {
	return r != nil && r.Err == nil && r.ExitCode == 0 && r.Signal == 0 && !r.OOMKilled
}

// Fingerprint is what a driver reports about itself to the node.
type Fingerprint struct {
	Detected    bool
	Healthy     bool
	Description string
	// Attributes become node attributes, e.g. "driver.docker.version".
	Attributes map[string]string
}

// Driver runs tasks.
type Driver interface {
	Name() string
	Fingerprint(ctx context.Context) *Fingerprint
	// StartTask creates and starts the task and begins copying its output
	// to the configured log files.
	StartTask(ctx context.Context, cfg *TaskConfig) (*TaskHandle, error)
	// WaitTask returns a channel that receives exactly one result when the
	// task stops, then is closed.
	WaitTask(ctx context.Context, h *TaskHandle) (<-chan *ExitResult, error)
	// StopTask sends signal (empty means SIGTERM), waits up to timeout, then kills.
	StopTask(ctx context.Context, h *TaskHandle, timeout time.Duration, signal string) error
	// DestroyTask removes the task; force kills it first if it still runs.
	DestroyTask(ctx context.Context, h *TaskHandle, force bool) error
	// RecoverTask reattaches to a task started by an earlier client process.
	RecoverTask(ctx context.Context, h *TaskHandle) error
}

// The interfaces below are optional: a driver implements those it can, and
// the client answers "not supported" for the others.

// ExecOptions describe a command to run inside a running task.
type ExecOptions struct {
	Command []string
	// Tty gives the command a terminal: stdout and stderr then arrive as
	// one stream on Stdout.
	Tty bool
	// Stdin is read until EOF and fed to the command; nil gives it none.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output.
	Stdout io.Writer
	Stderr io.Writer
	// Resize receives terminal size changes (with Tty).
	Resize <-chan TerminalSize
}

// TerminalSize is the size of an exec's terminal.
type TerminalSize struct {
	Height, Width int
}

// ExecDriver runs commands inside running tasks (`alloc exec`).
type ExecDriver interface {
	// ExecTask runs opts.Command in the task and returns its exit code once
	// it ends and its output was written. Ending ctx ends the command.
	ExecTask(ctx context.Context, h *TaskHandle, opts *ExecOptions) (exitCode int, err error)
}

// SignalDriver sends signals to running tasks (`alloc signal`).
type SignalDriver interface {
	// SignalTask sends sig ("SIGHUP", "HUP" or a number) to the task.
	SignalTask(ctx context.Context, h *TaskHandle, sig string) error
}

// StatsDriver reports what a running task uses (`alloc status -stats`).
type StatsDriver interface {
	// TaskStats samples the task's resource usage once.
	TaskStats(ctx context.Context, h *TaskHandle) (*TaskResourceUsage, error)
}

// TaskResourceUsage is one sample of a task's usage, in the units of
// Nomad's ResourceUsage: bytes for memory, MHz-ticks and percent for CPU.
type TaskResourceUsage struct {
	Timestamp time.Time

	// Memory in bytes.
	RSS, Cache, Swap, Usage, MaxUsage uint64
	// MemoryMeasured names the memory fields the driver filled.
	MemoryMeasured []string

	// CPU: Percent of one core (100 is one full core), time in user and
	// system mode as percentages too, and throttling.
	Percent, UserMode, SystemMode   float64
	ThrottledPeriods, ThrottledTime uint64
	// CPUMeasured names the CPU fields the driver filled.
	CPUMeasured []string
}
