package scheduler

import "github.com/drover-project/drover/structs"

// drainingNodes are the IDs of the nodes being drained.
func drainingNodes(nodes []*structs.Node) map[string]bool {
	out := map[string]bool{}
	for _, n := range nodes {
		if n.Drain {
			out[n.ID] = true
		}
	}
	return out
}

// stopLeavingDrainedNode stops the previous allocation of a replacement
// that found no node when that allocation is migrating off a draining
// node: a drain empties the node whether or not there is room elsewhere
// (Nomad's behaviour), while an update or a reschedule that cannot be
// placed leaves the old allocation running. It reports whether it stopped
// it.
func stopLeavingDrainedNode(plan *structs.Plan, req placeRequest, draining map[string]bool) bool {
	st := req.stopPrevious
	if st == nil || st.desc != descMigrating || !draining[st.alloc.NodeID] {
		return false
	}
	appendStop(plan, *st)
	return true
}

// Why a node that is up takes no new allocations, for placement failures.
const (
	reasonDraining   = "node is draining"
	reasonIneligible = "node is ineligible"
)

// notReadyReason says why a node is not Ready: down or initializing,
// draining, or marked ineligible.
func notReadyReason(n *structs.Node) string {
	switch {
	case n.Status != structs.NodeStatusReady:
		return reasonNotReady
	case n.Drain:
		return reasonDraining
	case n.SchedulingEligibility == structs.NodeSchedulingIneligible:
		return reasonIneligible
	}
	return reasonNotReady
}
