package structs

import (
	"errors"
	"fmt"
	"time"
)

// DrainSpec is what an operator asks of a drain, in Nomad's shape: how
// long allocations may take to migrate (0 means the servers' default, -1
// means now) and whether system jobs stay.
type DrainSpec struct {
	Deadline         time.Duration
	IgnoreSystemJobs bool
}

// DrainStrategy is a node's drain in progress. DrainSpec is embedded so
// that the JSON is flat, as Nomad's: {"Deadline", "IgnoreSystemJobs",
// "ForceDeadline", "StartedAt"}. A zero ForceDeadline means no deadline.
type DrainStrategy struct {
	DrainSpec
	ForceDeadline time.Time
	StartedAt     time.Time
}

// Copy returns a copy.
func (d *DrainStrategy) Copy() *DrainStrategy {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

// DeadlineTime reports whether the drain has a deadline, and when. A
// negative Deadline forces the drain at once.
func (d *DrainStrategy) DeadlineTime() (infinite bool, at time.Time) {
	if d == nil {
		return false, time.Time{}
	}
	if d.Deadline < 0 {
		return false, time.Time{} // force now: a zero time is always past
	}
	if d.Deadline == 0 {
		return true, time.Time{}
	}
	return false, d.ForceDeadline
}

// Drain statuses of DrainMetadata.
const (
	DrainStatusDraining = "draining"
	DrainStatusComplete = "complete"
	DrainStatusCanceled = "canceled"
)

// DrainMetadata is the record of a node's last drain (Node.LastDrain).
type DrainMetadata struct {
	StartedAt time.Time
	UpdatedAt time.Time
	Status    string
	Meta      map[string]string `json:",omitempty"`
}

// NodeUpdateDrainRequest is the body of PUT /v1/node/:id/drain. A nil
// DrainSpec ends the drain; MarkEligible then makes the node eligible again.
type NodeUpdateDrainRequest struct {
	NodeID       string
	DrainSpec    *DrainSpec
	MarkEligible bool
	Meta         map[string]string `json:",omitempty"`
}

// NodeDrainUpdateResponse answers a drain update.
type NodeDrainUpdateResponse struct {
	NodeModifyIndex uint64
	EvalIDs         []string
	EvalCreateIndex uint64
	Index           uint64 `json:"-"`
}

// NodeUpdateEligibilityRequest is the body of PUT /v1/node/:id/eligibility.
type NodeUpdateEligibilityRequest struct {
	NodeID      string
	Eligibility string
}

// Validate checks the eligibility value.
func (r *NodeUpdateEligibilityRequest) Validate() error {
	switch r.Eligibility {
	case NodeSchedulingEligible, NodeSchedulingIneligible:
		return nil
	case "":
		return errors.New("Eligibility: missing; want \"eligible\" or \"ineligible\"")
	}
	return fmt.Errorf("Eligibility: %q is not \"eligible\" or \"ineligible\"", r.Eligibility)
}

// NodeEligibilityUpdateResponse answers an eligibility update.
type NodeEligibilityUpdateResponse struct {
	NodeModifyIndex uint64
	EvalIDs         []string
	EvalCreateIndex uint64
	Index           uint64 `json:"-"`
}

// MigrateStrategy is a group's `migrate` block: how its allocations leave
// a draining node. At most MaxParallel are moving at once; a replacement
// counts as moved once healthy (by HealthCheck, "checks" or "task_states")
// for MinHealthyTime, or failed after HealthyDeadline.
type MigrateStrategy struct {
	MaxParallel     int
	HealthCheck     string
	MinHealthyTime  time.Duration
	HealthyDeadline time.Duration
}

// Migrate health check modes.
const (
	MigrateHealthChecks     = "checks"
	MigrateHealthTaskStates = "task_states"
)

// DefaultMigrateStrategy returns Nomad's defaults.
func DefaultMigrateStrategy() *MigrateStrategy {
	return &MigrateStrategy{MaxParallel: 1, HealthCheck: MigrateHealthChecks, MinHealthyTime: 10 * time.Second, HealthyDeadline: 5 * time.Minute}
}

// Copy returns a copy.
func (m *MigrateStrategy) Copy() *MigrateStrategy {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// Validate checks the block's values.
func (m *MigrateStrategy) Validate() error {
	if m == nil {
		return nil
	}
	var errs []error
	if m.MaxParallel < 0 {
		errs = append(errs, fmt.Errorf("migrate: max_parallel must not be negative, got %d", m.MaxParallel))
	}
	switch m.HealthCheck {
	case MigrateHealthChecks, MigrateHealthTaskStates:
	default:
		errs = append(errs, fmt.Errorf("migrate: health_check must be %q or %q, got %q", MigrateHealthChecks, MigrateHealthTaskStates, m.HealthCheck))
	}
	if m.MinHealthyTime < 0 || m.HealthyDeadline < 0 {
		errs = append(errs, errors.New("migrate: min_healthy_time and healthy_deadline must not be negative"))
	}
	if m.HealthyDeadline > 0 && m.MinHealthyTime >= m.HealthyDeadline {
		errs = append(errs, errors.New("migrate: min_healthy_time must be less than healthy_deadline"))
	}
	return errors.Join(errs...)
}

// canonicalizeMigrate gives service groups Nomad's migrate defaults, with
// the fields a block left out filled in; other job types have none.
func (tg *TaskGroup) canonicalizeMigrate(jobType string) {
	if jobType != JobTypeService && jobType != "" {
		tg.Migrate = nil
		return
	}
	def := DefaultMigrateStrategy()
	if tg.Migrate == nil {
		tg.Migrate = def
		return
	}
	if tg.Migrate.HealthCheck == "" {
		tg.Migrate.HealthCheck = def.HealthCheck
	}
	if tg.Migrate.MinHealthyTime == 0 {
		tg.Migrate.MinHealthyTime = def.MinHealthyTime
	}
	if tg.Migrate.HealthyDeadline == 0 {
		tg.Migrate.HealthyDeadline = def.HealthyDeadline
	}
}

// EvalTriggerNodeDrain is the trigger of evaluations the drainer makes
// when it marks allocations to migrate off a draining node.
const EvalTriggerNodeDrain = "node-drain"
