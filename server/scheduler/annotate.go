package scheduler

import (
	"github.com/drover-project/drover/structs"
)

// annotate counts, per group, what a reconciliation does, for `job plan`.
// Like Nomad's, the counts are what the scheduler wants, whether or not
// every placement then finds a node (the failures are reported apart).
func annotate(job *structs.Job, rec reconcileResult) *structs.PlanAnnotations {
	a := newAnnotations(job)
	for _, st := range rec.stops {
		a.group(st.alloc.TaskGroup).Stop++
	}
	for _, p := range rec.places {
		switch {
		case p.stopPrevious != nil && p.stopPrevious.desc == descUpdating:
			a.group(p.group.Name).DestructiveUpdate++
		case p.stopPrevious != nil && p.stopPrevious.desc == descMigrating:
			a.group(p.group.Name).Migrate++
		default:
			a.group(p.group.Name).Place++
		}
	}
	changed := changeCache{}
	for _, alloc := range rec.kept {
		if changed.changed(alloc.Job, job) {
			a.group(alloc.TaskGroup).InPlaceUpdate++
		} else {
			a.group(alloc.TaskGroup).Ignore++
		}
	}
	return a.PlanAnnotations
}

type annotations struct{ *structs.PlanAnnotations }

func newAnnotations(job *structs.Job) annotations {
	a := annotations{&structs.PlanAnnotations{DesiredTGUpdates: map[string]*structs.DesiredUpdates{}}}
	if job != nil {
		for _, tg := range job.TaskGroups {
			a.group(tg.Name)
		}
	}
	return a
}

func (a annotations) group(name string) *structs.DesiredUpdates {
	d := a.DesiredTGUpdates[name]
	if d == nil {
		d = &structs.DesiredUpdates{}
		a.DesiredTGUpdates[name] = d
	}
	return d
}

// changeCache remembers, per version of the job an allocation carries,
// whether the new job differs from it; allocations share few versions.
type changeCache map[[2]uint64]bool

func (c changeCache) changed(old, new *structs.Job) bool {
	if old == nil || old == new {
		return false
	}
	key := [2]uint64{old.JobModifyIndex, old.Version}
	v, ok := c[key]
	if !ok {
		v = old.Diff(new, false).Type != structs.DiffTypeNone
		c[key] = v
	}
	return v
}
