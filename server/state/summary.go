package state

import (
	"github.com/drover-project/drover/structs"
)

// ensureSummary creates the job's summary, or adds the groups a new version
// brought. Groups a version dropped keep their counts: their allocations
// still exist until they are stopped and collected.
func (w *writer) ensureSummary(job *structs.Job) error {
	existing, err := get[*structs.JobSummary](w, TableJobSummary, job.Namespace, job.ID)
	if err != nil {
		return err
	}
	var sum *structs.JobSummary
	if existing == nil {
		sum = &structs.JobSummary{
			JobID:       job.ID,
			Namespace:   job.Namespace,
			Summary:     map[string]structs.TaskGroupSummary{},
			Children:    &structs.JobChildrenSummary{},
			CreateIndex: w.index,
		}
	} else {
		sum = existing.Copy()
		if sum.Summary == nil {
			sum.Summary = map[string]structs.TaskGroupSummary{}
		}
	}
	changed := existing == nil
	for _, tg := range job.TaskGroups {
		if tg == nil {
			continue
		}
		if _, ok := sum.Summary[tg.Name]; !ok {
			sum.Summary[tg.Name] = structs.TaskGroupSummary{}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	sum.ModifyIndex = w.index
	return w.insert(TableJobSummary, sum)
}

// setQueued takes the per-group queued counts an evaluation reports.
func (w *writer) setQueued(eval *structs.Evaluation) error {
	if len(eval.QueuedAllocations) == 0 {
		return nil
	}
	existing, err := get[*structs.JobSummary](w, TableJobSummary, eval.Namespace, eval.JobID)
	if err != nil || existing == nil {
		return err
	}
	sum := existing.Copy()
	changed := false
	for group, queued := range eval.QueuedAllocations {
		tg, ok := sum.Summary[group]
		if !ok || tg.Queued == queued {
			continue // a group the job no longer has is not counted
		}
		tg.Queued = queued
		sum.Summary[group] = tg
		changed = true
	}
	if !changed {
		return nil
	}
	sum.ModifyIndex = w.index
	return w.insert(TableJobSummary, sum)
}

// countAlloc moves an allocation between its group's counters when it is
// created or its client status changes. old is the stored version, or nil.
func (w *writer) countAlloc(old, alloc *structs.Allocation) error {
	if old != nil && old.ClientStatus == alloc.ClientStatus {
		return nil
	}
	existing, err := get[*structs.JobSummary](w, TableJobSummary, alloc.Namespace, alloc.JobID)
	if err != nil || existing == nil {
		return err
	}
	// An allocation of an earlier job with the same ID (purged, then
	// registered again) does not count toward the new job.
	if alloc.Job != nil && alloc.Job.CreateIndex != 0 && alloc.Job.CreateIndex != existing.CreateIndex {
		return nil
	}
	sum := existing.Copy()
	if sum.Summary == nil {
		sum.Summary = map[string]structs.TaskGroupSummary{}
	}
	tg := sum.Summary[alloc.TaskGroup]
	if old == nil {
		// A placement takes one off the queue the evaluation reported.
		tg.Queued = max(tg.Queued-1, 0)
	} else {
		addToCounter(&tg, old.ClientStatus, -1)
	}
	addToCounter(&tg, alloc.ClientStatus, 1)
	sum.Summary[alloc.TaskGroup] = tg
	sum.ModifyIndex = w.index
	return w.insert(TableJobSummary, sum)
}

// addToCounter adds delta to the counter of a client status, never going
// below zero (a summary restored from an older snapshot may be behind).
func addToCounter(tg *structs.TaskGroupSummary, clientStatus string, delta int) {
	var c *int
	switch clientStatus {
	case structs.AllocClientStatusPending:
		c = &tg.Starting
	case structs.AllocClientStatusRunning:
		c = &tg.Running
	case structs.AllocClientStatusComplete:
		c = &tg.Complete
	case structs.AllocClientStatusFailed:
		c = &tg.Failed
	case structs.AllocClientStatusLost:
		c = &tg.Lost
	case structs.AllocClientStatusUnknown:
		c = &tg.Unknown
	default:
		return
	}
	*c = max(*c+delta, 0)
}
