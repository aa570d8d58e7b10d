package structs

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// Resource defaults, as Nomad's.
const (
	DefaultTaskCPU      = 100
	DefaultTaskMemoryMB = 300
	DefaultKillTimeout  = 5 * time.Second
	MinTaskMemoryMB     = 10
)

// Task is one container of a group.
type Task struct {
	Name   string
	Driver string
	User   string `json:",omitempty"`
	// Config is the driver's own block, decoded from HCL into plain values:
	// string, bool, float64, []any and map[string]any (the shapes JSON
	// decoding gives, so a job reads the same after a round trip).
	Config    map[string]any
	Env       map[string]string
	Resources *Resources
	Meta      map[string]string
	// Services are the task's discoverable ports (see service.go).
	Services    []*Service
	KillTimeout time.Duration
	KillSignal  string `json:",omitempty"`
	Leader      bool

	// Lifecycle, RestartPolicy and ShutdownDelay: see lifecycle.go.
	Lifecycle     *TaskLifecycleConfig `json:",omitempty"`
	RestartPolicy *RestartPolicy       `json:",omitempty"`
	ShutdownDelay time.Duration

	Constraints []*Constraint
	Affinities  []*Affinity
	// VolumeMounts: see volumes.go.
	VolumeMounts []*VolumeMount `json:",omitempty"`
}

// Resources a task asks for.
type Resources struct {
	CPU         int
	Cores       int
	MemoryMB    int
	MemoryMaxMB int
	DiskMB      int `json:",omitempty"`
}

// Copy returns a copy.
func (r *Resources) Copy() *Resources {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// Canonicalize fills the task's defaults.
func (t *Task) Canonicalize(job *Job, tg *TaskGroup) {
	for _, svc := range t.Services {
		svc.Canonicalize(job.Name, tg.Name, t.Name)
	}
	if t.Resources == nil {
		t.Resources = &Resources{}
	}
	if t.Resources.CPU == 0 && t.Resources.Cores == 0 {
		t.Resources.CPU = DefaultTaskCPU
	}
	if t.Resources.MemoryMB == 0 {
		t.Resources.MemoryMB = DefaultTaskMemoryMB
	}
	if t.KillTimeout == 0 {
		t.KillTimeout = DefaultKillTimeout
	}
	t.canonicalizeLifecycle(tg)
	canonicalizeRules(t.Constraints, t.Affinities, nil)
}

// Validate checks one task. portLabels are the labels the group declares.
func (t *Task) Validate(portLabels map[string]bool) error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("task %q: "+format, append([]any{t.Name}, args...)...))
	}
	if t.Name == "" {
		return errors.New("task: missing name")
	}
	if t.Driver == "" {
		add("missing driver")
	}
	if t.Driver == "docker" {
		if img, _ := t.Config["image"].(string); img == "" {
			add("config: missing image")
		}
		if ports, ok := t.Config["ports"]; ok {
			list, _ := ports.([]any)
			if list == nil && ports != nil {
				add("config: ports must be a list of port labels")
			}
			for _, p := range list {
				label, _ := p.(string)
				if !portLabels[label] {
					add("config: port %q is not declared in the group's network block", p)
				}
			}
		}
		for _, err := range ValidateDockerConfig(t.Config) {
			add("%w", err)
		}
	}
	if r := t.Resources; r != nil {
		if r.CPU < 0 || r.MemoryMB < 0 || r.MemoryMaxMB < 0 || r.Cores < 0 {
			add("resources must not be negative")
		}
		if r.MemoryMB != 0 && r.MemoryMB < MinTaskMemoryMB {
			add("resources: memory must be at least %d MB, got %d", MinTaskMemoryMB, r.MemoryMB)
		}
	}
	if t.KillTimeout < 0 {
		add("kill_timeout must not be negative")
	}
	errs = append(errs, t.validateLifecycle()...)
	for _, err := range validateRules(t.Constraints, t.Affinities, nil) {
		add("%w", err)
	}
	return errors.Join(errs...)
}

// Copy returns a deep copy.
func (t *Task) Copy() *Task {
	if t == nil {
		return nil
	}
	c := *t
	c.Config = copyAnyMap(t.Config)
	c.Env = maps.Clone(t.Env)
	c.Meta = maps.Clone(t.Meta)
	c.Resources = t.Resources.Copy()
	c.Services = copyServices(t.Services)
	c.Lifecycle = t.Lifecycle.Copy()
	c.RestartPolicy = t.RestartPolicy.Copy()
	c.Constraints = copyConstraints(t.Constraints)
	c.Affinities = copyAffinities(t.Affinities)
	c.VolumeMounts = copyVolumeMounts(t.VolumeMounts)
	return &c
}

// copyAnyMap deep-copies decoded configuration values.
func copyAnyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyAny(v)
	}
	return out
}

func copyAny(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyAnyMap(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyAny(e)
		}
		return out
	case []map[string]any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			out[i] = copyAnyMap(e)
		}
		return out
	default:
		return v
	}
}
