package structs

import (
	"maps"
	"time"
)

// Deployment statuses, as Nomad's.
const (
	DeploymentStatusRunning    = "running"
	DeploymentStatusPaused     = "paused"
	DeploymentStatusFailed     = "failed"
	DeploymentStatusSuccessful = "successful"
	DeploymentStatusCancelled  = "cancelled"
	DeploymentStatusBlocked    = "blocked"
	DeploymentStatusPending    = "pending"
)

// Deployment status descriptions, as Nomad's.
const (
	DeploymentDescRunning                = "Deployment is running"
	DeploymentDescRunningNeedsPromotion  = "Deployment is running but requires manual promotion"
	DeploymentDescRunningAutoPromotion   = "Deployment is running pending automatic promotion"
	DeploymentDescPaused                 = "Deployment is paused"
	DeploymentDescSuccessful             = "Deployment completed successfully"
	DeploymentDescStoppedJob             = "Cancelled because job is stopped"
	DeploymentDescNewerJob               = "Cancelled due to newer version of job"
	DeploymentDescFailedAllocations      = "Failed due to unhealthy allocations"
	DeploymentDescProgressDeadline       = "Failed due to progress deadline"
	DeploymentDescFailedByUser           = "Deployment marked as failed"
	DeploymentDescUnblocked              = "Deployment was unblocked"
	DeploymentDescRollbackSuffix         = " - rolling back to job version %d"
	DeploymentDescRollbackNoStableSuffix = " - no stable job version to auto revert to"
)

// Deployment tracks the rollout of one version of a service job.
type Deployment struct {
	ID                 string
	Namespace          string
	JobID              string
	JobVersion         uint64
	JobModifyIndex     uint64
	JobSpecModifyIndex uint64
	JobCreateIndex     uint64
	IsMultiregion      bool
	TaskGroups         map[string]*DeploymentState
	Status             string
	StatusDescription  string
	EvalPriority       int
	CreateIndex        uint64
	ModifyIndex        uint64
	CreateTime         int64
	ModifyTime         int64
}

// DeploymentState is the progress of one group.
type DeploymentState struct {
	AutoRevert        bool
	AutoPromote       bool
	ProgressDeadline  time.Duration
	RequireProgressBy time.Time
	Promoted          bool
	PlacedCanaries    []string
	DesiredCanaries   int
	DesiredTotal      int
	PlacedAllocs      int
	HealthyAllocs     int
	UnhealthyAllocs   int
}

// Active reports whether the deployment still moves.
func (d *Deployment) Active() bool {
	if d == nil {
		return false
	}
	switch d.Status {
	case DeploymentStatusRunning, DeploymentStatusPaused, DeploymentStatusBlocked, DeploymentStatusPending:
		return true
	}
	return false
}

// RequiresPromotion reports whether a group has canaries not yet promoted.
func (d *Deployment) RequiresPromotion() bool {
	if d == nil {
		return false
	}
	for _, s := range d.TaskGroups {
		if s.DesiredCanaries > 0 && !s.Promoted {
			return true
		}
	}
	return false
}

// HasAutoPromote reports whether every group with canaries promotes
// itself.
func (d *Deployment) HasAutoPromote() bool {
	if d == nil {
		return false
	}
	any := false
	for _, s := range d.TaskGroups {
		if s.DesiredCanaries > 0 {
			if !s.AutoPromote {
				return false
			}
			any = true
		}
	}
	return any
}

// Copy returns a deep copy.
func (d *Deployment) Copy() *Deployment {
	if d == nil {
		return nil
	}
	c := *d
	if d.TaskGroups != nil {
		c.TaskGroups = make(map[string]*DeploymentState, len(d.TaskGroups))
		for k, v := range maps.All(d.TaskGroups) {
			c.TaskGroups[k] = v.Copy()
		}
	}
	return &c
}

// Copy returns a copy.
func (s *DeploymentState) Copy() *DeploymentState {
	if s == nil {
		return nil
	}
	c := *s
	c.PlacedCanaries = append([]string(nil), s.PlacedCanaries...)
	return &c
}

// AllocDeploymentStatus is what the client says of an allocation's health
// within its deployment.
type AllocDeploymentStatus struct {
	// Healthy is nil until the health is known.
	Healthy     *bool
	Timestamp   time.Time
	Canary      bool
	ModifyIndex uint64
}

// HasHealth reports whether the health is known.
func (s *AllocDeploymentStatus) HasHealth() bool { return s != nil && s.Healthy != nil }

// IsHealthy reports a known good health.
func (s *AllocDeploymentStatus) IsHealthy() bool { return s.HasHealth() && *s.Healthy }

// IsUnhealthy reports a known bad health.
func (s *AllocDeploymentStatus) IsUnhealthy() bool { return s.HasHealth() && !*s.Healthy }

// IsCanary reports a canary.
func (s *AllocDeploymentStatus) IsCanary() bool { return s != nil && s.Canary }

// Copy returns a deep copy.
func (s *AllocDeploymentStatus) Copy() *AllocDeploymentStatus {
	if s == nil {
		return nil
	}
	c := *s
	if s.Healthy != nil {
		h := *s.Healthy
		c.Healthy = &h
	}
	return &c
}

// DeploymentStatusUpdate changes a deployment's status.
type DeploymentStatusUpdate struct {
	DeploymentID      string
	Status            string
	StatusDescription string
}

// DeploymentPromoteRequest promotes the canaries of all or some groups.
type DeploymentPromoteRequest struct {
	DeploymentID string
	All          bool
	Groups       []string
}

// DeploymentUpdateResponse is what the deployment write endpoints answer.
type DeploymentUpdateResponse struct {
	EvalID                string
	EvalCreateIndex       uint64
	DeploymentModifyIndex uint64
	RevertedJobVersion    *uint64 `json:",omitempty"`
	Index                 uint64
}
