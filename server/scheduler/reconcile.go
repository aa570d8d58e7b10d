package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/drover-project/drover/structs"
)

// Why an allocation is stopped, as the user reads it on the allocation.
const (
	descNotNeeded   = "alloc not needed due to job update"
	descJobStopped  = "alloc is being stopped because job was stopped"
	descUpdating    = "alloc is being updated due to job update"
	descLost        = "alloc is lost since its node is down"
	descRescheduled = "alloc was rescheduled because it failed"
	descMigrating   = "alloc is being migrated"
)

// stopRequest is one allocation the plan stops.
type stopRequest struct {
	alloc *structs.Allocation
	desc  string
	// lost marks the allocation lost: its node is down, so its client will
	// never report on it again.
	lost bool
}

// placeRequest is one allocation the plan places.
type placeRequest struct {
	group *structs.TaskGroup
	name  string
	// previous is the allocation this one replaces, or nil.
	previous *structs.Allocation
	// stopPrevious stops previous, but only once the replacement found a
	// node: an update or a reschedule that cannot be placed leaves the old
	// allocation as it is.
	stopPrevious *stopRequest
	// avoidNode is a node to use only when no other fits: the one where
	// the previous allocation failed.
	avoidNode string
	// rescheduleDelay is the delay the reschedule policy imposed, for the
	// replacement's reschedule history.
	rescheduleDelay time.Duration
	// deploymentID is the deployment the placement belongs to; canary
	// marks a canary, which runs beside the allocation it is named after.
	deploymentID string
	canary       bool
}

// reconcileResult is what a job's allocations need to match the job.
type reconcileResult struct {
	stops  []stopRequest
	places []placeRequest
	// kept are the live allocations left running as they are (or updated
	// in place), which plan annotations count.
	kept []*structs.Allocation
	// followups are the times failed allocations become due to be
	// rescheduled, when their reschedule delay has not passed yet.
	followups []time.Time
	// deployment is the deployment to write with the plan, when it was
	// created or changed; deploymentUpdates cancel older ones.
	deployment        *structs.Deployment
	deploymentUpdates []*structs.DeploymentStatusUpdate
}

// reconcile compares the job's current version with its allocations and
// says what to stop and what to place. job is nil when it was purged.
// downNodes holds the nodes that are down or gone: what runs there is lost.
// It is pure: the same inputs give the same answer, which makes the
// scheduler idempotent.
func reconcile(job *structs.Job, allocs []*structs.Allocation, downNodes map[string]bool) reconcileResult {
	return reconcileAt(job, allocs, downNodes, time.Time{})
}

// reconcileAt is reconcile at a given time, which decides whether failed
// allocations are due to be rescheduled (see reschedule.go); the zero time
// reschedules every eligible one at once.
func reconcileAt(job *structs.Job, allocs []*structs.Allocation, downNodes map[string]bool, now time.Time) reconcileResult {
	return reconcileDeploying(job, allocs, downNodes, now, nil)
}

// reconcileDeploying is reconcileAt that rolls destructive updates of
// service groups through the job's deployment (see deployment.go); a nil
// deployer updates every allocation at once.
func reconcileDeploying(job *structs.Job, allocs []*structs.Allocation, downNodes map[string]bool, now time.Time, dp *deployer) (r reconcileResult) {
	if dp != nil {
		defer func() {
			r.deployment = dp.result()
			r.deploymentUpdates = dp.updates
		}()
	}
	byGroup := map[string][]*structs.Allocation{}
	for _, a := range allocs {
		byGroup[a.TaskGroup] = append(byGroup[a.TaskGroup], a)
	}

	if job.Stopped() {
		desc := descNotNeeded
		if job != nil {
			desc = descJobStopped
		}
		for _, a := range sortedByName(allocs) {
			if !a.Terminal() {
				r.stops = append(r.stops, stopRequest{alloc: a, desc: desc, lost: downNodes[a.NodeID]})
			}
		}
		return r
	}

	// Groups the job no longer has.
	var removed []*structs.Allocation
	for name, list := range byGroup {
		if job.LookupTaskGroup(name) == nil {
			removed = append(removed, list...)
		}
	}
	for _, a := range sortedByName(removed) {
		if !a.Terminal() {
			r.stops = append(r.stops, stopRequest{alloc: a, desc: descNotNeeded, lost: downNodes[a.NodeID]})
		}
	}

	h := history(allocs)
	for _, tg := range job.TaskGroups {
		reconcileGroup(&r, job, tg, byGroup[tg.Name], downNodes, h, now, dp)
	}
	return r
}

// slotKind says what an allocation means for its group's count.
type slotKind int

const (
	// slotLive runs, or is about to, on a node that is up.
	slotLive slotKind = iota
	// slotDone is finished batch work: it holds its index and needs nothing.
	slotDone
	// slotFailed failed and is to be placed again.
	slotFailed
	// slotLost was lost with its node and is to be placed again.
	slotLost
)

// slot is one allocation that occupies an index of its group.
type slot struct {
	alloc *structs.Allocation
	kind  slotKind
	index int
}

// allocHistory links allocations to their replacements.
type allocHistory struct {
	byID     map[string]*structs.Allocation
	replaced map[string]bool
}

func history(allocs []*structs.Allocation) allocHistory {
	h := allocHistory{byID: map[string]*structs.Allocation{}, replaced: map[string]bool{}}
	for _, a := range allocs {
		h.byID[a.ID] = a
		if a.PreviousAllocation != "" {
			h.replaced[a.PreviousAllocation] = true
		}
		if a.NextAllocation != "" {
			h.replaced[a.ID] = true
		}
	}
	return h
}

// failedAttempts counts the failed allocations this one replaced in a row.
func (h allocHistory) failedAttempts(a *structs.Allocation) int {
	n := 0
	seen := map[string]bool{a.ID: true}
	for prev := h.byID[a.PreviousAllocation]; prev != nil && !seen[prev.ID]; prev = h.byID[prev.PreviousAllocation] {
		if prev.ClientStatus != structs.AllocClientStatusFailed {
			break
		}
		seen[prev.ID] = true
		n++
	}
	return n
}

// classify says which allocations of a group count toward its count, and
// how. Those it leaves out are ignored: stopped by the servers, finished
// services (replaced simply by filling their index again), and failed or
// lost allocations that were already replaced.
func classify(job *structs.Job, tg *structs.TaskGroup, a *structs.Allocation, downNodes map[string]bool, h allocHistory, now time.Time) (slotKind, bool) {
	if a.ServerTerminal() {
		return 0, false
	}
	batch := job.Type == structs.JobTypeBatch
	switch a.ClientStatus {
	case structs.AllocClientStatusComplete:
		return slotDone, batch
	case structs.AllocClientStatusFailed:
		if h.replaced[a.ID] {
			return 0, false
		}
		// Past its reschedule policy, a failed allocation stays failed.
		if !rescheduleEligible(job, tg, a, h, now) {
			return slotDone, true
		}
		return slotFailed, true
	case structs.AllocClientStatusLost:
		if h.replaced[a.ID] {
			return 0, false
		}
		return slotLost, true
	}
	if downNodes[a.NodeID] {
		return slotLost, true
	}
	return slotLive, true
}

func reconcileGroup(r *reconcileResult, job *structs.Job, tg *structs.TaskGroup, allocs []*structs.Allocation, downNodes map[string]bool, h allocHistory, now time.Time, dp *deployer) {
	rolling := dp != nil && job.Type == structs.JobTypeService && tg.Update.Rolling()
	if rolling {
		// Whatever the group places while its deployment runs belongs to it.
		first := len(r.places)
		defer func() { dp.adopt(tg, r.places[first:]) }()
	}
	waiting := rolling && dp.waitingCanaries(tg)
	var slots []slot
	var canaries, updates []*structs.Allocation
	for _, a := range allocs {
		if waiting && dp.isCanaryOf(a) {
			// Canaries stand beside the old version until promoted.
			canaries = append(canaries, a)
			continue
		}
		if kind, counts := classify(job, tg, a, downNodes, h, now); counts {
			slots = append(slots, slot{alloc: a, kind: kind, index: a.Index()})
		}
	}
	// Lowest index first; on a shared index the live one wins, then the
	// one of the current version (a promoted canary), then the oldest.
	slices.SortStableFunc(slots, func(x, y slot) int {
		return cmp.Or(cmp.Compare(x.index, y.index), cmp.Compare(x.kind, y.kind),
			cmp.Compare(outdated(x.alloc, job, tg), outdated(y.alloc, job, tg)),
			cmp.Compare(x.alloc.CreateIndex, y.alloc.CreateIndex), cmp.Compare(x.alloc.ID, y.alloc.ID))
	})

	var kept, extra []slot
	for _, s := range slots {
		if s.index < 0 || (len(kept) > 0 && kept[len(kept)-1].index == s.index) {
			extra = append(extra, s)
			continue
		}
		kept = append(kept, s)
	}
	// Scaling down stops the highest indexes first.
	for len(kept) > tg.Count {
		extra = append(extra, kept[len(kept)-1])
		kept = kept[:len(kept)-1]
	}
	slices.SortStableFunc(extra, func(x, y slot) int { return cmp.Compare(y.index, x.index) })
	for _, s := range extra {
		if s.kind == slotDone {
			continue // finished work has nothing to stop
		}
		r.stops = append(r.stops, stopRequest{alloc: s.alloc, desc: descNotNeeded, lost: downNodes[s.alloc.NodeID]})
	}

	used := map[int]bool{}
	for _, s := range kept {
		used[s.index] = true
		a := s.alloc
		switch s.kind {
		case slotLive:
			if a.DesiredTransition.ShouldMigrate() {
				// alloc stop (or a drain): replace it, elsewhere if possible.
				r.places = append(r.places, placeRequest{group: tg, name: a.Name, previous: a,
					stopPrevious: &stopRequest{alloc: a, desc: descMigrating}})
			} else if destructiveChange(a.Job, job, tg.Name) && rolling {
				updates = append(updates, a) // rolled out below
			} else if destructiveChange(a.Job, job, tg.Name) {
				r.places = append(r.places, placeRequest{group: tg, name: a.Name, previous: a,
					stopPrevious: &stopRequest{alloc: a, desc: descUpdating}})
			} else {
				r.kept = append(r.kept, a)
			}
		case slotFailed:
			if at := rescheduleTime(job, tg, a, h); !now.IsZero() && at.After(now) {
				r.followups = append(r.followups, at)
				continue
			}
			r.places = append(r.places, placeRequest{group: tg, name: a.Name, previous: a, avoidNode: a.NodeID,
				stopPrevious:    &stopRequest{alloc: a, desc: descRescheduled},
				rescheduleDelay: rescheduleDelay(job, tg, a, h)})
		case slotLost:
			// The node is gone: the old allocation is stopped whether or
			// not a replacement finds room.
			r.stops = append(r.stops, stopRequest{alloc: a, desc: descLost, lost: true})
			r.places = append(r.places, placeRequest{group: tg, name: a.Name, previous: a, avoidNode: a.NodeID})
		}
	}
	if rolling {
		r.places = append(r.places, dp.rollGroup(tg, allocs, updates, canaries)...)
	}
	var fresh []placeRequest
	for i := 0; len(used) < tg.Count; i++ {
		if !used[i] {
			used[i] = true
			fresh = append(fresh, placeRequest{group: tg, name: allocName(job.ID, tg.Name, i)})
		}
	}
	r.places = append(r.places, fresh...)
}

// outdated is 1 for an allocation that an update would replace, else 0.
func outdated(a *structs.Allocation, job *structs.Job, tg *structs.TaskGroup) int {
	if destructiveChange(a.Job, job, tg.Name) {
		return 1
	}
	return 0
}

// allocName is "<job>.<group>[<index>]", which Allocation.Index parses.
func allocName(jobID, group string, index int) string {
	return fmt.Sprintf("%s.%s[%d]", jobID, group, index)
}

func sortedByName(allocs []*structs.Allocation) []*structs.Allocation {
	out := slices.Clone(allocs)
	slices.SortFunc(out, func(x, y *structs.Allocation) int {
		return cmp.Or(cmp.Compare(x.TaskGroup, y.TaskGroup), cmp.Compare(x.Index(), y.Index()), cmp.Compare(x.ID, y.ID))
	})
	return out
}
