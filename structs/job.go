package structs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Job types.
const (
	JobTypeService  = "service"
	JobTypeBatch    = "batch"
	JobTypeSystem   = "system"
	JobTypeSysBatch = "sysbatch"
)

// Job statuses, derived from its allocations and evaluations.
const (
	JobStatusPending = "pending"
	JobStatusRunning = "running"
	JobStatusDead    = "dead"
)

// Defaults applied by Canonicalize.
const (
	DefaultNamespace   = "default"
	DefaultRegion      = "global"
	DefaultDatacenter  = "dc1"
	DefaultJobPriority = 50
	MinJobPriority     = 1
	MaxJobPriority     = 100
)

// Job is the declared state a user submits: what should run, how many, where.
type Job struct {
	ID          string
	Name        string
	Namespace   string
	Region      string
	Type        string
	Priority    int
	Datacenters []string
	NodePool    string
	Meta        map[string]string
	TaskGroups  []*TaskGroup
	Constraints []*Constraint
	Affinities  []*Affinity
	Spreads     []*Spread
	// Update is the job's default update strategy (see update.go).
	Update *UpdateStrategy `json:",omitempty"`

	// Stop marks a job that the user stopped but did not purge.
	Stop bool
	// Status is computed by the server.
	Status            string
	StatusDescription string
	Stable            bool
	Version           uint64
	SubmitTime        int64

	CreateIndex    uint64
	ModifyIndex    uint64
	JobModifyIndex uint64
}

// Canonicalize fills the defaults a user may leave out. It is idempotent.
func (j *Job) Canonicalize() {
	if j == nil {
		return
	}
	if j.Name == "" {
		j.Name = j.ID
	}
	if j.Namespace == "" {
		j.Namespace = DefaultNamespace
	}
	if j.Region == "" {
		j.Region = DefaultRegion
	}
	if j.Type == "" {
		j.Type = JobTypeService
	}
	if j.Priority == 0 {
		j.Priority = DefaultJobPriority
	}
	if len(j.Datacenters) == 0 {
		j.Datacenters = []string{"*"}
	}
	if j.NodePool == "" {
		j.NodePool = "default"
	}
	canonicalizeRules(j.Constraints, j.Affinities, j.Spreads)
	for _, tg := range j.TaskGroups {
		tg.Canonicalize(j)
	}
}

// Validate checks a canonicalized job and reports every problem found, each
// naming where it is (for example `group "web": task "app": ...`).
func (j *Job) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if j.ID == "" {
		add("job: missing ID")
	} else if strings.ContainsAny(j.ID, " \t\n/") {
		add("job %q: ID must not contain spaces or slashes", j.ID)
	}
	switch j.Type {
	case JobTypeService, JobTypeBatch, JobTypeSystem, JobTypeSysBatch:
	default:
		add("job %q: unknown type %q (want service, batch, system or sysbatch)", j.ID, j.Type)
	}
	for _, err := range validateRules(j.Constraints, j.Affinities, j.Spreads) {
		add("job %q: %w", j.ID, err)
	}
	if j.Priority < MinJobPriority || j.Priority > MaxJobPriority {
		add("job %q: priority %d out of range [%d, %d]", j.ID, j.Priority, MinJobPriority, MaxJobPriority)
	}
	if len(j.TaskGroups) == 0 {
		add("job %q: needs at least one group", j.ID)
	}
	seen := map[string]bool{}
	for i, tg := range j.TaskGroups {
		if tg == nil {
			add("job %q: group %d is empty", j.ID, i)
			continue
		}
		if seen[tg.Name] {
			add("job %q: group %q is declared twice", j.ID, tg.Name)
		}
		seen[tg.Name] = true
		if err := tg.Validate(j); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// LookupTaskGroup returns the group with the given name, or nil.
func (j *Job) LookupTaskGroup(name string) *TaskGroup {
	if j == nil {
		return nil
	}
	for _, tg := range j.TaskGroups {
		if tg.Name == name {
			return tg
		}
	}
	return nil
}

// Stopped reports whether the job should run nothing.
func (j *Job) Stopped() bool { return j == nil || j.Stop }

// Copy returns a deep copy.
func (j *Job) Copy() *Job {
	if j == nil {
		return nil
	}
	c := *j
	c.Datacenters = slices.Clone(j.Datacenters)
	c.Meta = maps.Clone(j.Meta)
	c.Constraints = copyConstraints(j.Constraints)
	c.Affinities = copyAffinities(j.Affinities)
	c.Spreads = copySpreads(j.Spreads)
	c.Update = j.Update.Copy()
	if j.TaskGroups != nil {
		c.TaskGroups = make([]*TaskGroup, len(j.TaskGroups))
		for i, tg := range j.TaskGroups {
			c.TaskGroups[i] = tg.Copy()
		}
	}
	return &c
}

// Stub is the short form used by job lists.
func (j *Job) Stub(summary *JobSummary) *JobListStub {
	return &JobListStub{
		ID:                j.ID,
		ParentID:          "",
		Name:              j.Name,
		Namespace:         j.Namespace,
		Datacenters:       slices.Clone(j.Datacenters),
		NodePool:          j.NodePool,
		Type:              j.Type,
		Priority:          j.Priority,
		Stop:              j.Stop,
		Status:            j.Status,
		StatusDescription: j.StatusDescription,
		JobSummary:        summary.Copy(),
		CreateIndex:       j.CreateIndex,
		ModifyIndex:       j.ModifyIndex,
		JobModifyIndex:    j.JobModifyIndex,
		SubmitTime:        j.SubmitTime,
		Version:           j.Version,
	}
}

// JobListStub is one row of GET /v1/jobs.
type JobListStub struct {
	ID                string
	ParentID          string
	Name              string
	Namespace         string
	Datacenters       []string
	NodePool          string
	Type              string
	Priority          int
	Periodic          bool
	ParameterizedJob  bool
	Stop              bool
	Status            string
	StatusDescription string
	JobSummary        *JobSummary
	CreateIndex       uint64
	ModifyIndex       uint64
	JobModifyIndex    uint64
	SubmitTime        int64
	Version           uint64
}

// JobSummary counts a job's allocations per group and client status.
type JobSummary struct {
	JobID       string
	Namespace   string
	Summary     map[string]TaskGroupSummary
	Children    *JobChildrenSummary
	CreateIndex uint64
	ModifyIndex uint64
}

// TaskGroupSummary counts one group's allocations by state.
type TaskGroupSummary struct {
	Queued   int
	Complete int
	Failed   int
	Running  int
	Starting int
	Lost     int
	Unknown  int
}

// JobChildrenSummary is kept for Nomad's shape; drover has no child jobs yet.
type JobChildrenSummary struct {
	Pending int64
	Running int64
	Dead    int64
}

// Copy returns a deep copy.
func (s *JobSummary) Copy() *JobSummary {
	if s == nil {
		return nil
	}
	c := *s
	c.Summary = maps.Clone(s.Summary)
	if s.Children != nil {
		ch := *s.Children
		c.Children = &ch
	}
	return &c
}
