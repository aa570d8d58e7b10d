package structs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Restart modes.
const (
	RestartModeFail  = "fail"
	RestartModeDelay = "delay"
)

// TaskGroup is a set of tasks placed together on one node, as one allocation.
type TaskGroup struct {
	Name          string
	Count         int
	Tasks         []*Task
	Networks      []*NetworkResource
	RestartPolicy *RestartPolicy
	Meta          map[string]string
	// Services are the group's discoverable ports (see service.go).
	Services []*Service
	// ShutdownDelay is waited before the group's tasks are told to stop
	// when the allocation is stopped (see lifecycle.go).
	ShutdownDelay time.Duration
	Constraints   []*Constraint
	Affinities    []*Affinity
	Spreads       []*Spread
	// ReschedulePolicy says how failed allocations are placed again (see
	// reschedule.go); nil for system and sysbatch jobs.
	ReschedulePolicy *ReschedulePolicy `json:",omitempty"`
	// Volumes and EphemeralDisk: see volumes.go.
	Volumes       map[string]*VolumeRequest `json:",omitempty"`
	EphemeralDisk *EphemeralDisk            `json:",omitempty"`
	// Migrate says how allocations leave a draining node (node_drain.go);
	// service jobs get Nomad's defaults, other types keep nil.
	Migrate *MigrateStrategy `json:",omitempty"`
	// Update is how a new version replaces the old (see update.go).
	Update *UpdateStrategy `json:",omitempty"`
}

// RestartPolicy says how a failed task is restarted in place: up to Attempts
// restarts within Interval, each after Delay; then fail or wait (Mode).
type RestartPolicy struct {
	Attempts int
	Interval time.Duration
	Delay    time.Duration
	Mode     string
}

// DefaultRestartPolicy returns Nomad's defaults for a job type.
func DefaultRestartPolicy(jobType string) *RestartPolicy {
	if jobType == JobTypeBatch || jobType == JobTypeSysBatch {
		return &RestartPolicy{Attempts: 3, Interval: 24 * time.Hour, Delay: 15 * time.Second, Mode: RestartModeFail}
	}
	return &RestartPolicy{Attempts: 2, Interval: 30 * time.Minute, Delay: 15 * time.Second, Mode: RestartModeFail}
}

// Merge fills the zero fields of p from base and returns the result.
func (p *RestartPolicy) Merge(base *RestartPolicy) *RestartPolicy {
	if p == nil {
		return base.Copy()
	}
	out := *p
	if base == nil {
		return &out
	}
	if out.Interval == 0 {
		out.Interval = base.Interval
	}
	if out.Delay == 0 {
		out.Delay = base.Delay
	}
	if out.Mode == "" {
		out.Mode = base.Mode
	}
	return &out
}

// Copy returns a copy.
func (p *RestartPolicy) Copy() *RestartPolicy {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// Canonicalize fills the group's defaults from its job.
func (tg *TaskGroup) Canonicalize(job *Job) {
	if tg.Count < 0 {
		return // left for Validate to report
	}
	tg.RestartPolicy = tg.RestartPolicy.Merge(DefaultRestartPolicy(job.Type))
	if job.Type == JobTypeSystem || job.Type == JobTypeSysBatch {
		tg.ReschedulePolicy = nil
	} else {
		tg.ReschedulePolicy = tg.ReschedulePolicy.Merge(DefaultReschedulePolicy(job.Type))
	}
	canonicalizeRules(tg.Constraints, tg.Affinities, tg.Spreads)
	tg.canonicalizeMigrate(job.Type)
	tg.canonicalizeStorage()
	canonicalizeUpdate(job, tg)
	for _, n := range tg.Networks {
		n.Canonicalize()
	}
	for _, t := range tg.Tasks {
		t.Canonicalize(job, tg)
	}
	for _, svc := range tg.Services {
		svc.Canonicalize(job.Name, tg.Name, "")
	}
}

// Validate checks one group.
func (tg *TaskGroup) Validate(job *Job) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("group %q: "+format, append([]any{tg.Name}, args...)...))
	}
	if tg.Name == "" {
		errs = append(errs, errors.New("group: missing name"))
	}
	if tg.Count < 0 {
		add("count must not be negative, got %d", tg.Count)
	}
	if len(tg.Tasks) == 0 {
		add("needs at least one task")
	}
	if p := tg.RestartPolicy; p != nil {
		if p.Mode != RestartModeFail && p.Mode != RestartModeDelay {
			add("restart: mode must be %q or %q, got %q", RestartModeFail, RestartModeDelay, p.Mode)
		}
		if p.Attempts < 0 || p.Delay < 0 || p.Interval < 0 {
			add("restart: attempts, delay and interval must not be negative")
		}
	}
	if len(tg.Networks) > 1 {
		add("only one network block is supported per group")
	}
	if err := tg.ReschedulePolicy.Validate(); err != nil {
		add("%w", err)
	}
	if err := tg.Migrate.Validate(); err != nil {
		add("%w", err)
	}
	for _, err := range validateRules(tg.Constraints, tg.Affinities, tg.Spreads) {
		add("%w", err)
	}
	if err := tg.Update.Validate(tg.Count); err != nil {
		add("%w", err)
	}
	for _, err := range tg.validateStorage() {
		add("%w", err)
	}
	labels := map[string]bool{}
	for _, n := range tg.Networks {
		for _, p := range n.AllPorts() {
			if p.Label == "" {
				add("network: a port is missing its label")
				continue
			}
			if labels[p.Label] {
				add("network: port %q is declared twice", p.Label)
			}
			labels[p.Label] = true
			if p.Value < 0 || p.Value > 65535 || p.To < -1 || p.To > 65535 {
				add("network: port %q: value out of range", p.Label)
			}
		}
		switch n.Mode {
		case "", "host", "bridge", "none":
		default:
			add("network: unknown mode %q", n.Mode)
		}
	}
	errs = append(errs, validateGroupLifecycle(tg)...)
	for _, svc := range tg.Services {
		if err := svc.Validate(labels); err != nil {
			errs = append(errs, fmt.Errorf("group %q: %w", tg.Name, err))
		}
	}
	seen := map[string]bool{}
	for _, t := range tg.Tasks {
		if seen[t.Name] {
			add("task %q is declared twice", t.Name)
		}
		seen[t.Name] = true
		for _, svc := range t.Services {
			if err := svc.Validate(labels); err != nil {
				errs = append(errs, fmt.Errorf("group %q: task %q: %w", tg.Name, t.Name, err))
			}
		}
		if err := t.Validate(labels); err != nil {
			errs = append(errs, fmt.Errorf("group %q: %w", tg.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Copy returns a deep copy.
func (tg *TaskGroup) Copy() *TaskGroup {
	if tg == nil {
		return nil
	}
	c := *tg
	c.Meta = maps.Clone(tg.Meta)
	c.RestartPolicy = tg.RestartPolicy.Copy()
	c.ReschedulePolicy = tg.ReschedulePolicy.Copy()
	c.Services = copyServices(tg.Services)
	c.Constraints = copyConstraints(tg.Constraints)
	c.Affinities = copyAffinities(tg.Affinities)
	c.Spreads = copySpreads(tg.Spreads)
	c.Volumes = copyVolumeRequests(tg.Volumes)
	c.EphemeralDisk = tg.EphemeralDisk.Copy()
	c.Update = tg.Update.Copy()
	c.Migrate = tg.Migrate.Copy()
	if tg.Tasks != nil {
		c.Tasks = make([]*Task, len(tg.Tasks))
		for i, t := range tg.Tasks {
			c.Tasks[i] = t.Copy()
		}
	}
	if tg.Networks != nil {
		c.Networks = make([]*NetworkResource, len(tg.Networks))
		for i, n := range tg.Networks {
			c.Networks[i] = n.Copy()
		}
	}
	return &c
}

// LookupTask returns the task with the given name, or nil.
func (tg *TaskGroup) LookupTask(name string) *Task {
	for _, t := range tg.Tasks {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// NetworkResource is a group's `network` block, and once placed, the ports
// the scheduler assigned on a node.
type NetworkResource struct {
	Mode          string
	Device        string `json:",omitempty"`
	IP            string `json:",omitempty"`
	MBits         int    `json:",omitempty"`
	ReservedPorts []Port
	DynamicPorts  []Port
	DNS           *DNSConfig `json:",omitempty"`
}

// Port is a labelled port. Value is the host port (fixed for reserved ports,
// chosen by the scheduler for dynamic ones); To is the port inside the
// container (0 means the same as Value).
type Port struct {
	Label       string
	Value       int
	To          int
	HostNetwork string `json:",omitempty"`
}

// Canonicalize fills the network's defaults.
func (n *NetworkResource) Canonicalize() {
	if n.Mode == "" {
		n.Mode = "host"
	}
}

// AllPorts lists reserved then dynamic ports.
func (n *NetworkResource) AllPorts() []Port {
	if n == nil {
		return nil
	}
	return append(slices.Clone(n.ReservedPorts), n.DynamicPorts...)
}

// Copy returns a deep copy.
func (n *NetworkResource) Copy() *NetworkResource {
	if n == nil {
		return nil
	}
	c := *n
	c.ReservedPorts = slices.Clone(n.ReservedPorts)
	c.DynamicPorts = slices.Clone(n.DynamicPorts)
	c.DNS = n.DNS.Copy()
	return &c
}
