package scheduler

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/drover-project/drover/structs"
)

// Preemption: when no node has room for an allocation and the cluster
// allows preemption for its job type, allocations of jobs at least
// structs.PreemptionPriorityGap lower in priority may be evicted to make
// room. The evicted allocations are stopped in the same plan (desired
// status "evict", PreemptedByAllocation set), the new one lists them in
// PreemptedAllocations, and each evicted job gets an evaluation so it is
// placed again elsewhere if it can be.

// evictionsFor returns the lower-priority allocations on the node whose
// eviction lets the group fit, fewest and lowest-priority first; nil when
// no such set exists or the node's problem is not one eviction solves.
func (p *groupPlacer) evictionsFor(node *structs.Node) ([]*structs.Allocation, error) {
	u, err := p.usage.usage(node.ID)
	if err != nil {
		return nil, err
	}
	capCPU, capMem := nodeCapacity(node)
	needCPU := u.cpu + p.askCPU - capCPU
	needMem := u.memMB + p.askMem - capMem
	var needDisk int64 // 0 for a node whose disk is not counted
	capDisk, diskChecked := nodeDisk(node)
	if diskChecked {
		needDisk = u.diskMB + p.askDisk - capDisk
	}
	needPorts := map[int]bool{}
	for _, nw := range p.tg.Networks {
		for _, port := range nw.ReservedPorts {
			if port.Value > 0 && u.ports[port.Value] > 0 {
				needPorts[port.Value] = true
			}
		}
	}
	if p.askCPU > capCPU || p.askMem > capMem || (diskChecked && p.askDisk > capDisk) {
		return nil, nil // too big for the node even if it were empty
	}
	if needCPU <= 0 && needMem <= 0 && needDisk <= 0 && len(needPorts) == 0 {
		return nil, nil
	}

	onNode, err := p.usage.state.AllocsByNode(node.ID)
	if err != nil {
		return nil, fmt.Errorf("allocations of node %s: %w", node.ID, err)
	}
	var candidates []*structs.Allocation
	for _, a := range onNode {
		if a.Terminal() || p.usage.stopped[a.ID] || a.Job == nil {
			continue
		}
		if a.Namespace == p.job.Namespace && a.JobID == p.job.ID {
			continue
		}
		if a.Job.Priority+structs.PreemptionPriorityGap > p.job.Priority {
			continue
		}
		candidates = append(candidates, a)
	}
	// Lowest priority first; among equals the youngest, which has done
	// the least work.
	slices.SortFunc(candidates, func(x, y *structs.Allocation) int {
		return cmp.Or(cmp.Compare(x.Job.Priority, y.Job.Priority), cmp.Compare(y.CreateIndex, x.CreateIndex), cmp.Compare(x.ID, y.ID))
	})

	satisfied := func(set []*structs.Allocation) bool {
		cpu, mem, disk := needCPU, needMem, needDisk
		ports := map[int]bool{}
		for _, a := range set {
			c, m := allocResources(a)
			cpu, mem, disk = cpu-c, mem-m, disk-allocDisk(a)
			for _, port := range allocPorts(a) {
				ports[port] = true
			}
		}
		for port := range needPorts {
			if !ports[port] {
				return false
			}
		}
		return cpu <= 0 && mem <= 0 && disk <= 0
	}
	helps := func(a *structs.Allocation, set []*structs.Allocation) bool {
		cpu, mem, disk := needCPU, needMem, needDisk
		for _, b := range set {
			c, m := allocResources(b)
			cpu, mem, disk = cpu-c, mem-m, disk-allocDisk(b)
		}
		c, m := allocResources(a)
		if (cpu > 0 && c > 0) || (mem > 0 && m > 0) || (disk > 0 && allocDisk(a) > 0) {
			return true
		}
		return slices.ContainsFunc(allocPorts(a), func(port int) bool { return needPorts[port] })
	}
	var chosen []*structs.Allocation
	for _, a := range candidates {
		if satisfied(chosen) {
			break
		}
		if helps(a, chosen) {
			chosen = append(chosen, a)
		}
	}
	if !satisfied(chosen) {
		return nil, nil
	}
	// Keep only what is needed: drop, highest priority first, any
	// eviction the others make unnecessary.
	for i := len(chosen) - 1; i >= 0; i-- {
		without := slices.Delete(slices.Clone(chosen), i, i+1)
		if satisfied(without) {
			chosen = without
		}
	}
	return chosen, nil
}

// preemptionCost orders eviction sets: fewer high-priority evictions first.
func preemptionCost(set []*structs.Allocation) (maxPriority, count int) {
	for _, a := range set {
		maxPriority = max(maxPriority, a.Job.Priority)
	}
	return maxPriority, len(set)
}

// placeByPreemption finds the feasible node where evicting lower-priority
// allocations costs least, evicts them in the usage view and ranks the
// node again. It returns the candidate and the evictions, or nil.
func (p *groupPlacer) placeByPreemption(metric *structs.AllocMetric, only *structs.Node) (*candidate, []*structs.Allocation, error) {
	nodes := p.nodes
	if only != nil {
		nodes = []*structs.Node{only}
	}
	var bestNode *structs.Node
	var bestSet []*structs.Allocation
	for _, n := range nodes {
		set, err := p.evictionsFor(n)
		if err != nil {
			return nil, nil, err
		}
		if len(set) == 0 {
			continue
		}
		if bestSet == nil {
			bestNode, bestSet = n, set
			continue
		}
		bp, bc := preemptionCost(bestSet)
		sp, sc := preemptionCost(set)
		if sp < bp || (sp == bp && sc < bc) {
			bestNode, bestSet = n, set
		}
	}
	if bestSet == nil {
		return nil, nil, nil
	}
	for _, a := range bestSet {
		p.usage.stop(a)
	}
	c, err := p.rank(bestNode, metric)
	if err != nil || c == nil {
		for _, a := range bestSet {
			p.usage.unstop(a)
		}
		return nil, nil, err
	}
	return c, bestSet, nil
}

// recordEvictions adds the evictions made for alloc to the plan.
func recordEvictions(out *outcome, alloc *structs.Allocation, evicted []*structs.Allocation) {
	if len(evicted) == 0 {
		return
	}
	if out.plan.NodeUpdate == nil {
		out.plan.NodeUpdate = map[string][]*structs.Allocation{}
	}
	for _, a := range evicted {
		ev := a.Copy()
		ev.DesiredStatus = structs.AllocDesiredStatusEvict
		ev.DesiredDescription = "Preempted by alloc ID " + alloc.ID
		ev.PreemptedByAllocation = alloc.ID
		out.plan.NodeUpdate[ev.NodeID] = append(out.plan.NodeUpdate[ev.NodeID], ev)
		alloc.PreemptedAllocations = append(alloc.PreemptedAllocations, a.ID)
		if out.preempted == nil {
			out.preempted = map[[2]string]int{}
		}
		out.preempted[[2]string{a.Namespace, a.JobID}] = a.Job.Priority
		if ann := out.plan.Annotations; ann != nil {
			ann.PreemptedAllocs = append(ann.PreemptedAllocs, a.Stub())
			if d := ann.DesiredTGUpdates[alloc.TaskGroup]; d != nil {
				d.Preemptions++
			}
		}
	}
}

// preemptedEvals makes an evaluation for every job that lost allocations
// to preemption, so the scheduler places them again where they fit.
func (s *genericScheduler) preemptedEvals(eval *structs.Evaluation, preempted map[[2]string]int, state State) error {
	keys := make([][2]string, 0, len(preempted))
	for k := range preempted {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	now := s.clock().UnixNano()
	for _, k := range keys {
		job, err := state.JobByID(k[0], k[1])
		if err != nil {
			return fmt.Errorf("read preempted job %q: %w", k[1], err)
		}
		if job == nil {
			continue
		}
		ev := &structs.Evaluation{
			ID: uuid.NewString(), Namespace: job.Namespace, Priority: job.Priority, Type: job.Type,
			TriggeredBy: structs.EvalTriggerPreemption, JobID: job.ID, JobModifyIndex: job.JobModifyIndex,
			Status: structs.EvalStatusPending, PreviousEval: eval.ID, CreateTime: now, ModifyTime: now,
		}
		if err := s.planner.CreateEval(ev); err != nil {
			return fmt.Errorf("create evaluation for preempted job %q: %w", job.ID, err)
		}
	}
	return nil
}
