package command

import (
	"fmt"
	"strings"

	"github.com/drover-project/drover/structs"
)

// schedulingRows are the alloc status lines about what the scheduler did
// to the allocation, as Nomad's: reschedules that led to it, the
// allocation that evicted it, and those it evicted.
func schedulingRows(a *structs.Allocation, verbose bool) []string {
	var rows []string
	if t := a.RescheduleTracker; t != nil && len(t.Events) > 0 {
		attempts := fmt.Sprint(len(t.Events))
		if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil && tg.ReschedulePolicy != nil && !tg.ReschedulePolicy.Unlimited {
			attempts += fmt.Sprintf("/%d", tg.ReschedulePolicy.Attempts)
		}
		rows = append(rows, "Reschedule Attempts|"+attempts)
	}
	if a.PreemptedByAllocation != "" {
		rows = append(rows, "Preempted By Allocation|"+shortID(a.PreemptedByAllocation, verbose))
	}
	if len(a.PreemptedAllocations) > 0 {
		ids := make([]string, len(a.PreemptedAllocations))
		for i, id := range a.PreemptedAllocations {
			ids[i] = shortID(id, verbose)
		}
		rows = append(rows, "Preempted Allocations|"+strings.Join(ids, ", "))
	}
	return rows
}
