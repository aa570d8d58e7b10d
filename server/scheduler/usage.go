package scheduler

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// nodeUsage is what a node would carry if the plan so far were committed:
// its non-terminal allocations, less those the plan stops, plus those the
// plan places.
type nodeUsage struct {
	cpu   int64
	memMB int64
	// diskMB is the allocations' ephemeral disks.
	diskMB int64
	// ports counts the allocations holding each host port (one, unless
	// the state already holds a conflict).
	ports map[int]int
	// groups counts the allocations of the job being planned, per group,
	// for anti-affinity.
	groups map[string]int
}

// usageTracker keeps nodeUsage for the nodes a plan looks at, reading each
// node's allocations from the state at most once.
type usageTracker struct {
	state     State
	namespace string
	jobID     string
	stopped   map[string]bool
	nodes     map[string]*nodeUsage
}

func newUsageTracker(state State, namespace, jobID string) *usageTracker {
	return &usageTracker{state: state, namespace: namespace, jobID: jobID,
		stopped: map[string]bool{}, nodes: map[string]*nodeUsage{}}
}

// usage returns the node's usage.
func (t *usageTracker) usage(nodeID string) (*nodeUsage, error) {
	if u, ok := t.nodes[nodeID]; ok {
		return u, nil
	}
	allocs, err := t.state.AllocsByNode(nodeID)
	if err != nil {
		return nil, fmt.Errorf("allocations of node %s: %w", nodeID, err)
	}
	u := &nodeUsage{ports: map[int]int{}, groups: map[string]int{}}
	for _, a := range allocs {
		if !a.Terminal() && !t.stopped[a.ID] {
			t.apply(u, a, +1)
		}
	}
	t.nodes[nodeID] = u
	return u, nil
}

// stop frees what the allocation uses, as the plan now stops it.
func (t *usageTracker) stop(a *structs.Allocation) {
	if t.stopped[a.ID] {
		return
	}
	t.stopped[a.ID] = true
	if u, ok := t.nodes[a.NodeID]; ok && !a.Terminal() {
		t.apply(u, a, -1)
	}
}

// unstop takes back a stop that the plan dropped.
func (t *usageTracker) unstop(a *structs.Allocation) {
	if !t.stopped[a.ID] {
		return
	}
	delete(t.stopped, a.ID)
	if u, ok := t.nodes[a.NodeID]; ok && !a.Terminal() {
		t.apply(u, a, +1)
	}
}

// place adds an allocation the plan places; its node's usage has been read.
func (t *usageTracker) place(a *structs.Allocation) {
	if u, ok := t.nodes[a.NodeID]; ok {
		t.apply(u, a, +1)
	}
}

func (t *usageTracker) apply(u *nodeUsage, a *structs.Allocation, sign int) {
	cpu, mem := allocResources(a)
	u.cpu += int64(sign) * cpu
	u.memMB += int64(sign) * mem
	u.diskMB += int64(sign) * allocDisk(a)
	for _, p := range allocPorts(a) {
		u.ports[p] += sign
		if u.ports[p] <= 0 {
			delete(u.ports, p)
		}
	}
	if a.Namespace == t.namespace && a.JobID == t.jobID {
		u.groups[a.TaskGroup] += sign
	}
}

// allocResources is the cpu (MHz) and memory (MB) the allocation holds:
// what the scheduler reserved for it, or for an allocation without that
// record, what its group asks for.
func allocResources(a *structs.Allocation) (cpu, memMB int64) {
	if r := a.AllocatedResources; r != nil && len(r.Tasks) > 0 {
		for _, t := range r.Tasks {
			cpu += t.Cpu.CpuShares
			memMB += t.Memory.MemoryMB
		}
		return cpu, memMB
	}
	if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil {
		return groupAsk(tg)
	}
	return 0, 0
}

// allocPorts is the host ports the allocation holds, each once.
func allocPorts(a *structs.Allocation) []int {
	var ports []int
	if r := a.AllocatedResources; r != nil {
		// Shared.Ports and Shared.Networks describe the same ports; an
		// allocation written by another tool may fill only one of them.
		seen := map[int]bool{}
		add := func(p int) {
			if p > 0 && !seen[p] {
				seen[p] = true
				ports = append(ports, p)
			}
		}
		for _, p := range r.Shared.Ports {
			add(p.Value)
		}
		for _, n := range r.Shared.Networks {
			for _, p := range n.AllPorts() {
				add(p.Value)
			}
		}
		return ports
	}
	// Without a record of what was assigned, its static ports are the
	// best known.
	if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil {
		for _, n := range tg.Networks {
			for _, p := range n.ReservedPorts {
				ports = append(ports, p.Value)
			}
		}
	}
	return ports
}

// groupAsk is the cpu (MHz) and memory (MB) the group's tasks ask for.
func groupAsk(tg *structs.TaskGroup) (cpu, memMB int64) {
	for _, t := range tg.Tasks {
		r := resourcesOf(t)
		cpu += int64(r.CPU)
		memMB += int64(r.MemoryMB)
	}
	return cpu, memMB
}

// allocDisk is the ephemeral disk (MB) the allocation holds: what the
// scheduler reserved for it, or without that record, its group's
// ephemeral_disk size.
func allocDisk(a *structs.Allocation) int64 {
	if r := a.AllocatedResources; r != nil && r.Shared.DiskMB > 0 {
		return r.Shared.DiskMB
	}
	// Allocations placed before the ephemeral disk was recorded (or
	// written by another tool) hold their group's.
	if tg := a.Job.LookupTaskGroup(a.TaskGroup); tg != nil {
		return groupDisk(tg)
	}
	return 0
}

// groupDisk is the group's ephemeral disk size in MB, with Nomad's default
// when the job does not say.
func groupDisk(tg *structs.TaskGroup) int64 {
	if d := tg.EphemeralDisk; d != nil && d.SizeMB > 0 {
		return int64(d.SizeMB)
	}
	return structs.DefaultEphemeralDiskMB
}

// nodeDisk is the disk (MB) the node offers to allocations' ephemeral
// disks: what it reports less what it reserves. checked is false for a
// node that reports no disk size at all (a node registered by a tool that
// does not fingerprint disk), whose disk is then not counted, so that
// such a node does not refuse every allocation; drover's clients always
// report their free disk.
func nodeDisk(n *structs.Node) (diskMB int64, checked bool) {
	if n.NodeResources == nil || n.NodeResources.Disk.DiskMB <= 0 {
		return 0, false
	}
	diskMB = n.NodeResources.Disk.DiskMB
	if r := n.ReservedResources; r != nil {
		diskMB -= r.Disk.DiskMB
	}
	return diskMB, true
}

// nodeCapacity is what the node offers to allocations: its resources less
// what it reserves for itself.
func nodeCapacity(n *structs.Node) (cpu, memMB int64) {
	if r := n.NodeResources; r != nil {
		cpu, memMB = r.Cpu.CpuShares, r.Memory.MemoryMB
	}
	if r := n.ReservedResources; r != nil {
		cpu -= r.Cpu.CpuShares
		memMB -= r.Memory.MemoryMB
	}
	return cpu, memMB
}
