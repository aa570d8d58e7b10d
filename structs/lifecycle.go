package structs

import "fmt"

// Lifecycle hooks of a task, as Nomad names them. A task without a
// lifecycle block is a main task.
const (
	// TaskLifecycleHookPrestart tasks start before the main tasks. Without
	// sidecar they must finish successfully before the main tasks start;
	// with sidecar they keep running beside them.
	TaskLifecycleHookPrestart = "prestart"
	// TaskLifecycleHookPoststart tasks start once every main task runs.
	TaskLifecycleHookPoststart = "poststart"
	// TaskLifecycleHookPoststop tasks start once every main task stopped.
	TaskLifecycleHookPoststop = "poststop"
)

// TaskLifecycleConfig is a task's `lifecycle` block.
type TaskLifecycleConfig struct {
	Hook    string
	Sidecar bool
}

// Copy returns a copy.
func (l *TaskLifecycleConfig) Copy() *TaskLifecycleConfig {
	if l == nil {
		return nil
	}
	c := *l
	return &c
}

// IsMain reports whether a task with this lifecycle is a main task.
func (l *TaskLifecycleConfig) IsMain() bool { return l == nil || l.Hook == "" }

// IsEphemeral reports whether the task is meant to run to completion: a
// lifecycle task that is not a sidecar. Such a task is not restarted after
// it exits successfully, whatever the job type.
func (l *TaskLifecycleConfig) IsEphemeral() bool { return !l.IsMain() && !l.Sidecar }

// canonicalizeLifecycle gives the task its group's restart policy, with the
// task's own settings merged over it, as Nomad does.
func (t *Task) canonicalizeLifecycle(tg *TaskGroup) {
	if tg != nil {
		t.RestartPolicy = t.RestartPolicy.Merge(tg.RestartPolicy)
	}
	if t.Lifecycle != nil && t.Lifecycle.Hook == "" && !t.Lifecycle.Sidecar {
		t.Lifecycle = nil // an empty block is no block
	}
}

// validateLifecycle checks the lifecycle, restart and shutdown settings.
func (t *Task) validateLifecycle() []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("task %q: "+format, append([]any{t.Name}, args...)...))
	}
	if l := t.Lifecycle; l != nil {
		switch l.Hook {
		case TaskLifecycleHookPrestart, TaskLifecycleHookPoststart, TaskLifecycleHookPoststop:
		case "":
			add("lifecycle: missing hook (prestart, poststart or poststop)")
		default:
			add("lifecycle: hook must be %q, %q or %q, got %q",
				TaskLifecycleHookPrestart, TaskLifecycleHookPoststart, TaskLifecycleHookPoststop, l.Hook)
		}
		if l.Hook == TaskLifecycleHookPoststop && l.Sidecar {
			add("lifecycle: a poststop task cannot be a sidecar")
		}
	}
	if p := t.RestartPolicy; p != nil {
		if p.Mode != "" && p.Mode != RestartModeFail && p.Mode != RestartModeDelay {
			add("restart: mode must be %q or %q, got %q", RestartModeFail, RestartModeDelay, p.Mode)
		}
		if p.Attempts < 0 || p.Delay < 0 || p.Interval < 0 {
			add("restart: attempts, delay and interval must not be negative")
		}
	}
	if t.ShutdownDelay < 0 {
		add("shutdown_delay must not be negative")
	}
	return errs
}

// validateGroupLifecycle checks what only the whole group can tell: a
// group needs a main task for its lifecycle tasks to hang on.
func validateGroupLifecycle(tg *TaskGroup) []error {
	var errs []error
	if tg.ShutdownDelay < 0 {
		errs = append(errs, fmt.Errorf("group %q: shutdown_delay must not be negative", tg.Name))
	}
	if len(tg.Tasks) == 0 {
		return errs
	}
	for _, t := range tg.Tasks {
		if t.Lifecycle.IsMain() {
			return errs
		}
	}
	return append(errs, fmt.Errorf("group %q: needs at least one main task (a task without a lifecycle block)", tg.Name))
}

// DesiredTransition is what the servers want done with an allocation
// beyond its desired status, in Nomad's shape: Migrate marks an allocation
// that `alloc stop` (or a drain) asked to move; the scheduler stops it and
// places a replacement.
type DesiredTransition struct {
	Migrate         *bool `json:",omitempty"`
	Reschedule      *bool `json:",omitempty"`
	ForceReschedule *bool `json:",omitempty"`
	NoShutdownDelay *bool `json:",omitempty"`
}

// ShouldMigrate reports whether the allocation is to be moved.
func (d DesiredTransition) ShouldMigrate() bool { return d.Migrate != nil && *d.Migrate }

// ShouldIgnoreShutdownDelay reports whether the stop skips shutdown delays.
func (d DesiredTransition) ShouldIgnoreShutdownDelay() bool {
	return d.NoShutdownDelay != nil && *d.NoShutdownDelay
}

// Copy returns a deep copy.
func (d DesiredTransition) Copy() DesiredTransition {
	cp := func(b *bool) *bool {
		if b == nil {
			return nil
		}
		v := *b
		return &v
	}
	return DesiredTransition{Migrate: cp(d.Migrate), Reschedule: cp(d.Reschedule),
		ForceReschedule: cp(d.ForceReschedule), NoShutdownDelay: cp(d.NoShutdownDelay)}
}

// Task event types of the lifecycle operations, as Nomad names them.
const (
	TaskRestartSignal        = "Restart Signaled"
	TaskSignaling            = "Signaling"
	TaskWaitingShutdownDelay = "Waiting for shutdown delay"
	TaskMainDead             = "Main Tasks Dead"
)
