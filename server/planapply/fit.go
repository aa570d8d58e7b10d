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
	fit, err := nodeFitsWith(snap, plan, nodeID, nil)
	return fit.ok, fit.reason, err
}

// nodeFit is the outcome of a node's check.
type nodeFit struct {
	ok     bool
	reason string
	// inPlace is set when the plan changes allocations already there.
	inPlace bool
}

// nodeFitsWith is nodeFits with pending allocations (of plans committing
// before this one, oldest first) counted on the node as if they were in
// the state: each replaces a stored allocation of the same ID.
func nodeFitsWith(snap *state.StateSnapshot, plan *structs.Plan, nodeID string, pending []*structs.Allocation) (nodeFit, error) {
	node, err := snap.NodeByID(nil, nodeID)
	if err != nil {
		return nodeFit{}, err
	}
	if node == nil {
		return nodeFit{reason: "node does not exist"}, nil
	}
	// Only read, so the stored allocations themselves.
	existing, err := snap.AllocsByNodeShared(nil, nodeID)
	if err != nil {
		return nodeFit{}, err
	}
	if len(pending) > 0 {
		existing = overlay(existing, pending)
	}
	replaced := map[string]bool{}
	for _, a := range plan.NodeUpdate[nodeID] {
		replaced[a.ID] = true
	}
	var fit nodeFit
	placing := plan.NodeAllocation[nodeID]
	for _, a := range placing {
		exists := isExisting(existing, a.ID)
		if exists {
			fit.inPlace = true
		}
		if !replaced[a.ID] && !exists && !node.Ready() {
			fit.reason = fmt.Sprintf("node is %s", nodeState(node))
			return fit, nil
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
	fit.ok, fit.reason = AllocsFit(node, all)
	return fit, nil
}

// overlay is existing with pending laid over it: a pending allocation
// takes the place of the stored one with its ID, or is added.
func overlay(existing, pending []*structs.Allocation) []*structs.Allocation {
	out := make([]*structs.Allocation, 0, len(existing)+len(pending))
	at := make(map[string]int, len(existing)+len(pending))
	for _, a := range existing {
		at[a.ID] = len(out)
		out = append(out, a)
	}
	for _, a := range pending {
		if i, ok := at[a.ID]; ok {
			out[i] = a
			continue
		}
		at[a.ID] = len(out)
		out = append(out, a)
	}
	return out
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

// AllocsFit reports whether allocs together fit the node's cpu, memory,
// disk and ports, and names the first dimension that does not. Disk is the
// allocations' ephemeral disks against the node's disk less its reserve;
// it is not counted on a node that reports no disk size (as in the
// scheduler).
func AllocsFit(node *structs.Node, allocs []*structs.Allocation) (bool, string) {
	var cpu, mem, disk int64
	ports := map[int]string{}
	for _, a := range allocs {
		disk += allocDisk(a)
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
	if nr := node.NodeResources; nr != nil && nr.Disk.DiskMB > 0 {
		capDisk := nr.Disk.DiskMB
		if rr := node.ReservedResources; rr != nil {
			capDisk -= rr.Disk.DiskMB
		}
		if disk > capDisk {
			return false, "disk exhausted"
		}
	}
	return true, ""
}

// allocDisk is the ephemeral disk (MB) the allocation holds: what the
// scheduler recorded, or its group's ephemeral_disk size (Nomad's default
// when unset) for an allocation placed before that was recorded.
func allocDisk(a *structs.Allocation) int64 {
	if r := a.AllocatedResources; r != nil && r.Shared.DiskMB > 0 {
		return r.Shared.DiskMB
	}
	if a.Job == nil {
		return 0
	}
	tg := a.Job.LookupTaskGroup(a.TaskGroup)
	if tg == nil {
		return 0
	}
	if d := tg.EphemeralDisk; d != nil && d.SizeMB > 0 {
		return int64(d.SizeMB)
	}
	return structs.DefaultEphemeralDiskMB
}
