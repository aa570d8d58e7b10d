package state

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// UpsertAllocs writes allocations as the servers see them: placements,
// in-place updates and stops. What the client owns (ClientStatus,
// ClientDescription, TaskStates) is kept from the stored allocation, except
// that the servers may mark one lost or unknown. A new allocation must carry
// its job; an update without one keeps the stored job.
func (s *StateStore) UpsertAllocs(index uint64, allocs []*structs.Allocation) error {
	return s.write(index, func(w *writer) error {
		for _, a := range allocs {
			if err := w.upsertAlloc(a, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateAllocsFromClient takes what a client reports of its allocations:
// ClientStatus, ClientDescription, TaskStates and ModifyTime, and nothing
// else. Unknown allocations (already collected) are skipped. evals, for
// example to reschedule failed allocations, commit in the same transaction.
func (s *StateStore) UpdateAllocsFromClient(index uint64, allocs []*structs.Allocation, evals ...*structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		for _, a := range allocs {
			if err := w.updateAllocFromClient(a); err != nil {
				return err
			}
		}
		return w.upsertEvals(evals)
	})
}

// upsertAlloc stores a server-side version of an allocation. job, if not
// nil, is attached when the allocation comes without one (plans leave the
// job out of each allocation and send it once).
func (w *writer) upsertAlloc(alloc *structs.Allocation, job *structs.Job) error {
	if alloc == nil {
		return fmt.Errorf("state: nil allocation")
	}
	if err := requireIDs("allocation", "ID", alloc.ID, "Namespace", alloc.Namespace, "JobID", alloc.JobID); err != nil {
		return err
	}
	a := w.jobCopies.copyAlloc(alloc)
	if a.Job == nil && job != nil {
		a.Job = w.jobCopies.copyJob(job)
	}
	existing, err := get[*structs.Allocation](w, TableAllocs, a.ID)
	if err != nil {
		return err
	}
	if existing == nil {
		if a.Job == nil {
			return fmt.Errorf("state: new allocation %q has no job", a.ID)
		}
		if a.ClientStatus == "" {
			a.ClientStatus = structs.AllocClientStatusPending // no client has seen it yet
		}
		a.CreateIndex = w.index
	} else {
		a.CreateIndex = existing.CreateIndex
		// Stored objects never change, so the new version may share them.
		a.TaskStates = existing.TaskStates
		if a.ClientStatus != structs.AllocClientStatusLost && a.ClientStatus != structs.AllocClientStatusUnknown {
			a.ClientStatus = existing.ClientStatus
			a.ClientDescription = existing.ClientDescription
		}
		if a.Job == nil {
			a.Job = existing.Job
		}
		// The health is the client's to report.
		a.DeploymentStatus = existing.DeploymentStatus
	}
	a.ModifyIndex = w.index
	a.AllocModifyIndex = w.index
	return w.putAlloc(existing, a)
}

// stopAlloc applies a stop from a plan to the stored allocation: the desired
// status and description, a lost or unknown client status the servers
// decided, the modify time and the rescheduled replacement. An allocation
// already collected is skipped.
func (w *writer) stopAlloc(stop *structs.Allocation) error {
	if stop == nil {
		return fmt.Errorf("state: nil allocation")
	}
	existing, err := get[*structs.Allocation](w, TableAllocs, stop.ID)
	if err != nil || existing == nil {
		return err
	}
	a := existing.Copy() // shares the stored job, which never changes
	a.DesiredStatus = stop.DesiredStatus
	if a.DesiredStatus == "" {
		a.DesiredStatus = structs.AllocDesiredStatusStop
	}
	a.DesiredDescription = stop.DesiredDescription
	if stop.ClientStatus == structs.AllocClientStatusLost || stop.ClientStatus == structs.AllocClientStatusUnknown {
		a.ClientStatus = stop.ClientStatus
		a.ClientDescription = stop.ClientDescription
	}
	if stop.ModifyTime != 0 {
		a.ModifyTime = stop.ModifyTime
	}
	if stop.NextAllocation != "" {
		a.NextAllocation = stop.NextAllocation
	}
	if stop.PreemptedByAllocation != "" {
		a.PreemptedByAllocation = stop.PreemptedByAllocation
	}
	a.ModifyIndex = w.index
	a.AllocModifyIndex = w.index
	return w.putAlloc(existing, a)
}

// updateAllocFromClient applies a client's report to the stored allocation.
func (w *writer) updateAllocFromClient(update *structs.Allocation) error {
	if update == nil {
		return fmt.Errorf("state: nil allocation")
	}
	existing, err := get[*structs.Allocation](w, TableAllocs, update.ID)
	if err != nil || existing == nil {
		return err
	}
	a := existing.Copy()
	if update.ClientStatus != "" {
		a.ClientStatus = update.ClientStatus
	}
	a.ClientDescription = update.ClientDescription
	if update.TaskStates != nil {
		a.TaskStates = copyTaskStates(update.TaskStates)
	}
	if update.ModifyTime != 0 {
		a.ModifyTime = update.ModifyTime
	}
	if update.DeploymentStatus.HasHealth() && !a.DeploymentStatus.HasHealth() {
		// Health, once known, is final for the deployment; the canary
		// mark is the scheduler's.
		ds := update.DeploymentStatus.Copy()
		ds.Canary = a.DeploymentStatus.IsCanary()
		ds.ModifyIndex = w.index
		a.DeploymentStatus = ds
	}
	a.ModifyIndex = w.index
	return w.putAlloc(existing, a)
}

// putAlloc stores a new version of an allocation, counting it in its job's
// summary and marking the job's status for recomputation.
func (w *writer) putAlloc(existing, a *structs.Allocation) error {
	if err := w.countAlloc(existing, a); err != nil {
		return err
	}
	if err := w.countDeploymentAlloc(existing, a); err != nil {
		return err
	}
	if err := w.insert(TableAllocs, a); err != nil {
		return err
	}
	w.touchJob(a.Namespace, a.JobID, false)
	return nil
}

func copyTaskStates(states map[string]*structs.TaskState) map[string]*structs.TaskState {
	if states == nil {
		return nil
	}
	out := make(map[string]*structs.TaskState, len(states))
	for name, st := range states {
		out[name] = st.Copy()
	}
	return out
}
