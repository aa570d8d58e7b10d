package scheduler

import (
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/drover-project/drover/structs"
)

// destructiveChange reports whether an allocation placed from old must be
// replaced to run group of new: its tasks, network or metadata changed.
// Changes a running allocation does not see (count, restart policy,
// priority) are not destructive. An allocation that does not carry its job
// cannot be compared and is left alone rather than replaced on every run.
func destructiveChange(old, new *structs.Job, group string) bool {
	if old == nil || old == new {
		return false
	}
	a, b := old.LookupTaskGroup(group), new.LookupTaskGroup(group)
	if a == nil || b == nil {
		return true
	}
	// Metadata reaches the tasks' environment.
	if !maps.Equal(old.Meta, new.Meta) || !maps.Equal(a.Meta, b.Meta) {
		return true
	}
	if !networksEqual(a.Networks, b.Networks) {
		return true
	}
	if len(a.Tasks) != len(b.Tasks) {
		return true
	}
	for _, tb := range b.Tasks {
		ta := a.LookupTask(tb.Name)
		if ta == nil || !tasksEqual(ta, tb) {
			return true
		}
	}
	return false
}

func networksEqual(a, b []*structs.NetworkResource) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Mode != y.Mode || x.MBits != y.MBits ||
			!slices.Equal(x.ReservedPorts, y.ReservedPorts) || !slices.Equal(x.DynamicPorts, y.DynamicPorts) {
			return false
		}
	}
	return true
}

func tasksEqual(a, b *structs.Task) bool {
	return a.Driver == b.Driver && a.User == b.User &&
		a.KillTimeout == b.KillTimeout && a.KillSignal == b.KillSignal && a.Leader == b.Leader &&
		maps.Equal(a.Env, b.Env) && maps.Equal(a.Meta, b.Meta) &&
		resourcesOf(a) == resourcesOf(b) &&
		configEqual(a.Config, b.Config)
}

// configEqual compares decoded driver configurations; an empty map and a
// missing one are the same (a round trip through an encoder may turn one
// into the other).
func configEqual(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// resourcesOf is the task's ask with the defaults a canonical job has.
func resourcesOf(t *structs.Task) structs.Resources {
	var r structs.Resources
	if t.Resources != nil {
		r = *t.Resources
	}
	if r.CPU == 0 && r.Cores == 0 {
		r.CPU = structs.DefaultTaskCPU
	}
	if r.MemoryMB == 0 {
		r.MemoryMB = structs.DefaultTaskMemoryMB
	}
	return r
}

// appendInPlaceUpdates gives the kept allocations placed from an older
// version of the job the current one, without moving or restarting them:
// the change (count, restart or reschedule policy, constraints the node
// still meets, ...) does not reach their tasks. Once updated they carry
// the job's modify index, so a second run changes nothing.
func appendInPlaceUpdates(plan *structs.Plan, eval *structs.Evaluation, job *structs.Job, kept []*structs.Allocation, now time.Time) {
	for _, a := range kept {
		if a.Job == nil || a.Job == job || (a.Job.JobModifyIndex == job.JobModifyIndex && a.Job.Version == job.Version) {
			continue
		}
		u := a.Copy()
		u.Job = job
		u.EvalID = eval.ID
		u.ModifyTime = now.UnixNano()
		plan.AppendAlloc(u)
	}
}
