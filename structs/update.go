package structs

import (
	"fmt"
	"time"
)

// How a deployment decides that an allocation is healthy.
const (
	UpdateHealthCheckChecks     = "checks"
	UpdateHealthCheckTaskStates = "task_states"
	UpdateHealthCheckManual     = "manual"
)

// UpdateStrategy is the `update` block: how a new version of a service
// group replaces the old one. Nomad's semantics and defaults.
type UpdateStrategy struct {
	Stagger          time.Duration
	MaxParallel      int
	HealthCheck      string
	MinHealthyTime   time.Duration
	HealthyDeadline  time.Duration
	ProgressDeadline time.Duration
	AutoRevert       bool
	AutoPromote      bool
	Canary           int
}

// DefaultUpdateStrategy is what a service group gets when neither it nor
// its job has an update block.
func DefaultUpdateStrategy() *UpdateStrategy {
	return &UpdateStrategy{
		Stagger:          30 * time.Second,
		MaxParallel:      1,
		HealthCheck:      UpdateHealthCheckChecks,
		MinHealthyTime:   10 * time.Second,
		HealthyDeadline:  5 * time.Minute,
		ProgressDeadline: 10 * time.Minute,
	}
}

// Copy returns a copy.
func (u *UpdateStrategy) Copy() *UpdateStrategy {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}

// Rolling reports whether the strategy rolls updates through deployments:
// max_parallel 0 turns them off.
func (u *UpdateStrategy) Rolling() bool { return u != nil && u.MaxParallel > 0 }

// canonicalizeUpdate gives a service group its update strategy: the
// group's own, with the fields it leaves out taken from the job's and then
// from the defaults. Other job types have none.
func canonicalizeUpdate(job *Job, tg *TaskGroup) {
	if job.Type != JobTypeService {
		tg.Update = nil
		return
	}
	base := DefaultUpdateStrategy()
	if job.Update != nil {
		base = mergeUpdate(job.Update, base)
	}
	if tg.Update == nil {
		tg.Update = base
		return
	}
	tg.Update = mergeUpdate(tg.Update, base)
}

// mergeUpdate fills the unset fields of u from base. A zero MaxParallel is
// taken as unset only when nothing else was set either, as decoders write
// explicit zeros; jobspec decodes an explicit max_parallel = 0 as -1.
func mergeUpdate(u, base *UpdateStrategy) *UpdateStrategy {
	out := *u
	if out.Stagger == 0 {
		out.Stagger = base.Stagger
	}
	if out.MaxParallel == 0 {
		out.MaxParallel = base.MaxParallel
	}
	if out.MaxParallel < 0 {
		out.MaxParallel = 0
	}
	if out.HealthCheck == "" {
		out.HealthCheck = base.HealthCheck
	}
	if out.MinHealthyTime == 0 {
		out.MinHealthyTime = base.MinHealthyTime
	}
	if out.HealthyDeadline == 0 {
		out.HealthyDeadline = base.HealthyDeadline
	}
	if out.ProgressDeadline == 0 {
		out.ProgressDeadline = base.ProgressDeadline
	}
	if !out.AutoRevert {
		out.AutoRevert = base.AutoRevert
	}
	if !out.AutoPromote {
		out.AutoPromote = base.AutoPromote
	}
	if out.Canary == 0 {
		out.Canary = base.Canary
	}
	return &out
}

// Validate checks a canonical strategy of a group of count instances.
func (u *UpdateStrategy) Validate(count int) error {
	if u == nil {
		return nil
	}
	switch u.HealthCheck {
	case UpdateHealthCheckChecks, UpdateHealthCheckTaskStates, UpdateHealthCheckManual:
	default:
		return fmt.Errorf("update: health_check must be checks, task_states or manual, got %q", u.HealthCheck)
	}
	if u.MaxParallel < 0 || u.Canary < 0 {
		return fmt.Errorf("update: max_parallel and canary must not be negative")
	}
	if u.MinHealthyTime < 0 || u.HealthyDeadline < 0 || u.ProgressDeadline < 0 || u.Stagger < 0 {
		return fmt.Errorf("update: durations must not be negative")
	}
	if u.MaxParallel > 0 && u.MinHealthyTime >= u.HealthyDeadline {
		return fmt.Errorf("update: min_healthy_time (%s) must be less than healthy_deadline (%s)", u.MinHealthyTime, u.HealthyDeadline)
	}
	if u.ProgressDeadline != 0 && u.HealthyDeadline > u.ProgressDeadline {
		return fmt.Errorf("update: healthy_deadline (%s) must not exceed progress_deadline (%s)", u.HealthyDeadline, u.ProgressDeadline)
	}
	if u.Canary > 0 && u.MaxParallel == 0 {
		return fmt.Errorf("update: canary needs max_parallel > 0")
	}
	return nil
}
