package planapply

import (
	"fmt"

	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// nodeFits checks that the node can hold everything the plan leaves on it:
// its current allocations, less those the plan stops or replaces, plus the
// plan's placements.
func nodeFits(snap *state.StateSnapshot, plan *structs.Plan, nodeID string) (bool, string, error) {
	node, err := snap.NodeByID(nil, nodeID)
	if err != nil {
		return false, "", err
	}
	if node == nil {
		return false, "node does not exist", nil
	}
	// Only read, so the stored allocations themselves.
	existing, err := snap.AllocsByNodeShared(nil, nodeID)
	if err != nil {
		return false, "", err
	}
	replaced := map[string]bool{}
	for _, a := range plan.NodeUpdate[nodeID] {
		replaced[a.ID] = true
	}
	placing := plan.NodeAllocation[nodeID]
	for _, a := range placing {
		if !replaced[a.ID] && !isExisting(existing, a.ID) && !node.Ready() {
			return false, fmt.Sprintf("node is %s", nodeState(node)), nil
		}
		replaced[a.ID] = true
	}

	var all []*structs.Allocation
	for _, a := range existing {
		if !a.Terminal() && !replaced[a.ID] {
			all = append(all, a)
		}
	}
	all = append(all, placing...)
	ok, reason := AllocsFit(node, all)
	return ok, reason, nil
}

func isExisting(allocs []*structs.Allocation, id string) bool {
	for _, a := range allocs {
		if a.ID == id {
			return true
		}
	}
	return false
}

func nodeState(n *structs.Node) string {
	if n.Drain {
		return "draining"
	}
	if n.SchedulingEligibility == structs.NodeSchedulingIneligible {
		return "ineligible"
	}
	return n.Status
}

// AllocsFit reports whether allocs together fit the node's cpu, memory and
// ports, and names the first dimension that does not.
func AllocsFit(node *structs.Node, allocs []*structs.Allocation) (bool, string) {
	var cpu, mem int64
	ports := map[int]string{}
	for _, a := range allocs {
		r := a.AllocatedResources
		if r == nil {
			continue
		}
		for _, t := range r.Tasks {
			cpu += t.Cpu.CpuShares
			mem += t.Memory.MemoryMB
		}
		for _, p := range r.Shared.Ports {
			if owner, taken := ports[p.Value]; taken {
				return false, fmt.Sprintf("port %d used by both %s and %s", p.Value, owner, a.ID)
			}
			ports[p.Value] = a.ID
		}
	}
	var capCPU, capMem int64
	if nr := node.NodeResources; nr != nil {
		capCPU, capMem = nr.Cpu.CpuShares, nr.Memory.MemoryMB
	}
	if rr := node.ReservedResources; rr != nil {
		capCPU -= rr.Cpu.CpuShares
		capMem -= rr.Memory.MemoryMB
	}
	if cpu > capCPU {
		return false, "cpu exhausted"
	}
	if mem > capMem {
		return false, "memory exhausted"
	}
	return true, ""
}
