// Package schedulertest is a harness for testing the scheduler without a
// cluster: an in-memory State and a Planner that records what it is asked
// and commits plans to that State. Import it only from _test.go files.
package schedulertest

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/drover-project/drover/structs"
)

// State is an in-memory scheduler.State. Like the real state store it
// hands out copies, so a scheduler that mutates what it reads cannot
// corrupt it, and it stamps every write with a growing index.
type State struct {
	mu     sync.Mutex
	index  uint64
	jobs   map[jobKey]*structs.Job
	nodes  map[string]*structs.Node
	allocs map[string]*structs.Allocation
	config *structs.SchedulerConfiguration
	// deployments by ID (deployments.go).
	deployments map[string]*structs.Deployment
}

type jobKey struct{ namespace, id string }

// NewState returns an empty state.
func NewState() *State {
	return &State{
		jobs:   map[jobKey]*structs.Job{},
		nodes:  map[string]*structs.Node{},
		allocs: map[string]*structs.Allocation{},
	}
}

// Index is the index of the last write.
func (s *State) Index() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index
}

// UpsertJob stores a copy of job, bumping its version when it replaces one.
func (s *State) UpsertJob(job *structs.Job) *structs.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	j := job.Copy()
	key := jobKey{j.Namespace, j.ID}
	if old, ok := s.jobs[key]; ok {
		j.CreateIndex = old.CreateIndex
		j.Version = old.Version + 1
	} else {
		j.CreateIndex = s.index
	}
	j.ModifyIndex, j.JobModifyIndex = s.index, s.index
	s.jobs[key] = j
	return j.Copy()
}

// DeleteJob removes a job, as a purge does; its allocations stay.
func (s *State) DeleteJob(namespace, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	delete(s.jobs, jobKey{namespace, id})
}

// UpsertNode stores a copy of node.
func (s *State) UpsertNode(node *structs.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	n := node.Copy()
	if old, ok := s.nodes[n.ID]; ok {
		n.CreateIndex = old.CreateIndex
	} else {
		n.CreateIndex = s.index
	}
	n.ModifyIndex = s.index
	s.nodes[n.ID] = n
}

// UpsertAllocs stores copies of allocs.
func (s *State) UpsertAllocs(allocs ...*structs.Allocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	for _, a := range allocs {
		s.putAlloc(a.Copy())
	}
}

// putAlloc stores a at the current index; the caller holds mu.
func (s *State) putAlloc(a *structs.Allocation) {
	if old, ok := s.allocs[a.ID]; ok {
		a.CreateIndex = old.CreateIndex
	} else {
		a.CreateIndex = s.index
	}
	a.ModifyIndex, a.AllocModifyIndex = s.index, s.index
	s.allocs[a.ID] = a
}

// Alloc returns a copy of one allocation, or nil.
func (s *State) Alloc(id string) *structs.Allocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allocs[id].Copy()
}

// Allocs returns copies of every allocation, oldest first.
func (s *State) Allocs() []*structs.Allocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted(func(*structs.Allocation) bool { return true })
}

// LiveAllocs returns copies of the allocations that are not terminal, in
// name order.
func (s *State) LiveAllocs() []*structs.Allocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sorted(func(a *structs.Allocation) bool { return !a.Terminal() })
	slices.SortStableFunc(out, func(a, b *structs.Allocation) int {
		return cmp.Or(cmp.Compare(a.TaskGroup, b.TaskGroup), cmp.Compare(a.Index(), b.Index()))
	})
	return out
}

// sorted returns copies of the allocations that keep says to, oldest first;
// the caller holds mu.
func (s *State) sorted(keep func(*structs.Allocation) bool) []*structs.Allocation {
	var out []*structs.Allocation
	for _, a := range s.allocs {
		if keep(a) {
			out = append(out, a.Copy())
		}
	}
	slices.SortFunc(out, func(a, b *structs.Allocation) int {
		return cmp.Or(cmp.Compare(a.CreateIndex, b.CreateIndex), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// JobByID implements scheduler.State.
func (s *State) JobByID(namespace, id string) (*structs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[jobKey{namespace, id}].Copy(), nil
}

// AllocsByJob implements scheduler.State.
func (s *State) AllocsByJob(namespace, jobID string) ([]*structs.Allocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted(func(a *structs.Allocation) bool { return a.Namespace == namespace && a.JobID == jobID }), nil
}

// AllocsByNode implements scheduler.State.
func (s *State) AllocsByNode(nodeID string) ([]*structs.Allocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted(func(a *structs.Allocation) bool { return a.NodeID == nodeID }), nil
}

// Nodes implements scheduler.State; nodes come in ID order.
func (s *State) Nodes() ([]*structs.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*structs.Node, 0, len(s.nodes))
	for _, n := range s.nodes {
		out = append(out, n.Copy())
	}
	slices.SortFunc(out, func(a, b *structs.Node) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// NodeByID implements scheduler.State.
func (s *State) NodeByID(id string) (*structs.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[id].Copy(), nil
}

// CheckFit reports the first node whose live allocations exceed its cpu or
// memory, or share a host port: what the plan applier would refuse.
func (s *State) CheckFit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	type load struct {
		cpu, mem, disk int64
		ports          map[int]string
	}
	loads := map[string]*load{}
	for _, a := range s.sorted(func(a *structs.Allocation) bool { return !a.Terminal() }) {
		l := loads[a.NodeID]
		if l == nil {
			l = &load{ports: map[int]string{}}
			loads[a.NodeID] = l
		}
		if r := a.AllocatedResources; r != nil {
			for _, t := range r.Tasks {
				l.cpu += t.Cpu.CpuShares
				l.mem += t.Memory.MemoryMB
			}
			l.disk += r.Shared.DiskMB
			for _, p := range r.Shared.Ports {
				if other, ok := l.ports[p.Value]; ok {
					return fmt.Errorf("node %s: port %d held by %s and %s", a.NodeID, p.Value, other, a.Name)
				}
				l.ports[p.Value] = a.Name
			}
		}
	}
	for id, l := range loads {
		n := s.nodes[id]
		if n == nil {
			continue
		}
		var cpu, mem int64
		if r := n.NodeResources; r != nil {
			cpu, mem = r.Cpu.CpuShares, r.Memory.MemoryMB
		}
		if r := n.ReservedResources; r != nil {
			cpu -= r.Cpu.CpuShares
			mem -= r.Memory.MemoryMB
		}
		if l.cpu > cpu || l.mem > mem {
			return fmt.Errorf("node %s overcommitted: cpu %d/%d MHz, memory %d/%d MB", id, l.cpu, cpu, l.mem, mem)
		}
		// A node that reports no disk is not checked on disk.
		if r := n.NodeResources; r != nil && r.Disk.DiskMB > 0 {
			disk := r.Disk.DiskMB
			if rr := n.ReservedResources; rr != nil {
				disk -= rr.Disk.DiskMB
			}
			if l.disk > disk {
				return fmt.Errorf("node %s overcommitted: disk %d/%d MB", id, l.disk, disk)
			}
		}
	}
	return nil
}
