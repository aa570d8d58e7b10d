package structs

import (
	"strconv"
	"time"
)

// JobPlanRequest is the body of PUT /v1/job/:id/plan: the job to dry-run,
// and whether to compute its diff against the running version.
type JobPlanRequest struct {
	Job            *Job
	Diff           bool
	PolicyOverride bool
}

// JobPlanResponse is what running the job would do, without doing it.
type JobPlanResponse struct {
	Annotations *PlanAnnotations
	// FailedTGAllocs explains, per group, what could not be placed.
	FailedTGAllocs map[string]*AllocMetric
	// JobModifyIndex is the running version's index, for `job run
	// -check-index`; 0 when the job does not exist yet.
	JobModifyIndex uint64
	// CreatedEvals are the evaluations the run would create, such as a
	// blocked one waiting for capacity.
	CreatedEvals       []*Evaluation
	Diff               *JobDiff
	NextPeriodicLaunch time.Time
	Warnings           string
}

// PlanAnnotations say what a plan does per group.
type PlanAnnotations struct {
	DesiredTGUpdates map[string]*DesiredUpdates
	PreemptedAllocs  []*AllocListStub
}

// DesiredUpdates counts what a plan does to one group's allocations.
type DesiredUpdates struct {
	Ignore            uint64
	Place             uint64
	Migrate           uint64
	Stop              uint64
	InPlaceUpdate     uint64
	DestructiveUpdate uint64
	Canary            uint64
	Preemptions       uint64
}

// Kinds of update, as TaskGroupDiff.Updates names them.
const (
	UpdateTypeIgnore            = "ignore"
	UpdateTypeCreate            = "create"
	UpdateTypeDestroy           = "destroy"
	UpdateTypeMigrate           = "migrate"
	UpdateTypeCanary            = "canary"
	UpdateTypeInplaceUpdate     = "in-place update"
	UpdateTypeDestructiveUpdate = "create/destroy update"
)

// Updates maps the counts to TaskGroupDiff.Updates' names, leaving zeros out.
func (d *DesiredUpdates) Updates() map[string]uint64 {
	out := map[string]uint64{}
	for name, n := range map[string]uint64{
		UpdateTypeIgnore: d.Ignore, UpdateTypeCreate: d.Place, UpdateTypeDestroy: d.Stop,
		UpdateTypeMigrate: d.Migrate, UpdateTypeCanary: d.Canary,
		UpdateTypeInplaceUpdate: d.InPlaceUpdate, UpdateTypeDestructiveUpdate: d.DestructiveUpdate,
	} {
		if n > 0 {
			out[name] = n
		}
	}
	return out
}

// Changes reports whether the plan creates or destroys allocations, which
// makes `job plan` exit 1.
func (a *PlanAnnotations) Changes() bool {
	if a == nil {
		return false
	}
	for _, d := range a.DesiredTGUpdates {
		if d.Place+d.Stop+d.Migrate+d.DestructiveUpdate+d.Canary+d.Preemptions > 0 {
			return true
		}
	}
	return false
}

// Annotate records the plan's updates on the diff: each group's counts,
// and on its tasks whether a change forces replacing the allocations or
// updates them in place.
func (d *JobDiff) Annotate(a *PlanAnnotations) {
	if d == nil || a == nil {
		return
	}
	for _, g := range d.TaskGroups {
		u := a.DesiredTGUpdates[g.Name]
		if u == nil {
			continue
		}
		g.Updates = u.Updates()
		for _, f := range g.Fields {
			if f.Name == "Count" && f.Type == DiffTypeEdited {
				o, _ := strconv.Atoi(f.Old)
				n, _ := strconv.Atoi(f.New)
				if n > o {
					f.Annotations = []string{AnnotationForcesCreate}
				} else {
					f.Annotations = []string{AnnotationForcesDestroy}
				}
			}
		}
		for _, t := range g.Tasks {
			if t.Type != DiffTypeEdited {
				continue
			}
			if u.DestructiveUpdate > 0 {
				t.Annotations = []string{AnnotationForcesDestructiveUpdate}
			} else if u.InPlaceUpdate > 0 {
				t.Annotations = []string{AnnotationForcesInplaceUpdate}
			}
		}
	}
}
