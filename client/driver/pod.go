package driver

import (
	"context"
	"errors"
)

// This file is what makes a task group behave like a pod: one network
// namespace for all its tasks, shared directories and volumes, and the
// driver options and events around starting a task.

// Pod is the part of a TaskConfig that the client prepares from the group:
// the network the task joins, what is mounted into it, and the task's raw
// driver config for the options the driver decodes itself.
type Pod struct {
	// NetworkMode is "" for a network of the task's own (its listed ports
	// published on the host), "none", or "container:<id>" to join the
	// group network held by the infra container <id>.
	NetworkMode string `json:",omitempty"`
	// DNS applies to a task with a network of its own; a task that joins a
	// group network uses the group network's DNS.
	DNS *DNSConfig `json:",omitempty"`
	// Mounts are prepared by the client (allocation directories, host
	// volumes) and are always allowed, unlike host paths a job asks for.
	Mounts []Mount `json:",omitempty"`
	// TaskDir is the task's directory on the host: relative paths of the
	// task's own volumes are inside it.
	TaskDir string `json:",omitempty"`
	// DriverConfig is the task's whole config block (interpolated), for the
	// options the driver decodes itself.
	DriverConfig map[string]any `json:",omitempty"`
	// Emit, when set, records a task event ("Downloading Image", ...).
	Emit func(eventType, message string) `json:"-"`
}

// Mount types.
const (
	MountBind   = "bind"
	MountVolume = "volume"
	MountTmpfs  = "tmpfs"
)

// Mount is one filesystem mount of a task.
type Mount struct {
	Type     string // MountBind, MountVolume or MountTmpfs
	Source   string // host path (bind) or volume name (volume)
	Target   string // path in the task
	ReadOnly bool
}

// DNSConfig is a network's resolver settings.
type DNSConfig struct {
	Servers  []string `json:",omitempty"`
	Searches []string `json:",omitempty"`
	Options  []string `json:",omitempty"`
}

// EmitEvent records a task event when the config has an Emit callback.
func (c *TaskConfig) EmitEvent(eventType, message string) {
	if c != nil && c.Emit != nil {
		c.Emit(eventType, message)
	}
}

// Errors drivers wrap so the task runner can tell failures apart.
var (
	// ErrImagePull: the image could not be pulled. The task runner retries
	// with an exponential back-off (like Kubernetes' ImagePullBackOff)
	// instead of spending the restart policy's attempts.
	ErrImagePull = errors.New("image pull failed")
	// ErrNotRetryable: starting again cannot help (an image that is absent
	// and may not be pulled): the task fails at once.
	ErrNotRetryable = errors.New("not retryable")
	// ErrInvalidConfig: the task's driver config is wrong or not allowed
	// on this client; it fails the task with a Setup Failure.
	ErrInvalidConfig = errors.New("invalid task config")
)

// ConfigValidator is implemented by drivers that check a task's config
// before starting it, so a mistake is a Setup Failure, not a retried start.
type ConfigValidator interface {
	ValidateTaskConfig(cfg *TaskConfig) error
}

// Group network modes.
const (
	NetworkModeHost   = "host"
	NetworkModeBridge = "bridge"
	NetworkModeNone   = "none"
)

// GroupNetworkSpec is what a group network needs.
type GroupNetworkSpec struct {
	AllocID   string
	Namespace string
	JobID     string
	GroupName string
	Mode      string // NetworkModeBridge or NetworkModeNone
	// Ports are published on the host, all of them (in bridge mode a
	// task's own config.ports do not matter: the tasks share the ports).
	Ports []PortMapping
	DNS   *DNSConfig
}

// GroupNetwork is a created group network.
type GroupNetwork struct {
	// ContainerID is the infra container holding the namespace; tasks
	// join it with NetworkMode "container:<ID>".
	ContainerID string
}

// GroupNetworkDriver is implemented by drivers that can hold a network
// namespace for a whole group (docker, with an infra container).
type GroupNetworkDriver interface {
	// CreateGroupNetwork creates the group's network, or returns the one
	// that already exists for the allocation (after a client restart).
	CreateGroupNetwork(ctx context.Context, spec *GroupNetworkSpec) (*GroupNetwork, error)
	// DestroyGroupNetwork removes it; a network already gone is no error.
	DestroyGroupNetwork(ctx context.Context, allocID string) error
}

// Mark returns an error with err's message that also matches kind (one of
// the errors above) with errors.Is, so the kind steers the task runner
// without showing in the task event.
func Mark(err, kind error) error { return &marked{err: err, kind: kind} }

type marked struct{ err, kind error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.err, m.kind} }
