package scheduler

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/drover-project/drover/structs"
)

// Why the system scheduler stops an allocation.
const (
	descNodeIneligible = "alloc not needed as node is not eligible for the job"
	descNodeDraining   = "alloc not needed as node is draining"
)

// isSystemType reports whether the job type runs one allocation per node.
func isSystemType(jobType string) bool {
	return jobType == structs.JobTypeSystem || jobType == structs.JobTypeSysBatch
}

// computeSystemPlan plans a system or sysbatch job: one allocation of each
// group on every node that can run it. Nodes are walked in ID order, so a
// run is reproducible; there is no choice of node, only of whether each
// node fits.
//
// On each node, an allocation is placed when none runs there, replaced
// when the job changed destructively (or, for system jobs, when it failed
// or finished), and stopped when the node went down, is draining or no
// longer satisfies the job. A node that is only marked ineligible keeps
// what it runs. sysbatch work that finished or failed is not run again
// until the job changes.
func (s *genericScheduler) computeSystemPlan(eval *structs.Evaluation, state State, rng *rand.Rand) (*outcome, error) {
	job, allocs, nodes, config, err := readPlanInputs(eval, state)
	if err != nil {
		return nil, err
	}

	out := &outcome{
		plan:   &structs.Plan{EvalID: eval.ID, Priority: eval.Priority, Job: job},
		failed: map[string]*structs.AllocMetric{},
	}
	usage := newUsageTracker(state, eval.Namespace, eval.JobID)
	jobs := newJobAllocs(allocs, nodes)
	ann, changed := newAnnotations(job), changeCache{}
	if eval.AnnotatePlan {
		out.plan.Annotations = ann.PlanAnnotations
	}
	stop := func(st stopRequest) {
		appendStop(out.plan, st)
		usage.stop(st.alloc)
		jobs.stop(st.alloc)
		ann.group(st.alloc.TaskGroup).Stop++
	}

	// Allocations the servers still want running, by group and node.
	live := map[string]map[string][]*structs.Allocation{}
	finished := map[string]map[string][]*structs.Allocation{}
	for _, a := range sortedByName(allocs) {
		byNode := live
		if a.ServerTerminal() {
			continue
		}
		if a.ClientTerminal() {
			byNode = finished
		}
		if byNode[a.TaskGroup] == nil {
			byNode[a.TaskGroup] = map[string][]*structs.Allocation{}
		}
		byNode[a.TaskGroup][a.NodeID] = append(byNode[a.TaskGroup][a.NodeID], a)
	}

	if job.Stopped() {
		desc := descNotNeeded
		if job != nil {
			desc = descJobStopped
		}
		for _, a := range sortedByName(allocs) {
			if !a.Terminal() {
				stop(stopRequest{alloc: a, desc: desc, lost: nodeDown(a.NodeID, nodes)})
			}
		}
		return out, nil
	}
	out.queued = map[string]int{}
	for name, byNode := range live {
		if job.LookupTaskGroup(name) != nil {
			continue
		}
		for _, list := range byNode {
			for _, a := range list {
				stop(stopRequest{alloc: a, desc: descNotNeeded, lost: nodeDown(a.NodeID, nodes)})
			}
		}
	}

	byID := make(map[string]*structs.Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	// Allocations on nodes that are gone from the state are lost.
	for _, tg := range job.TaskGroups {
		for nodeID, list := range live[tg.Name] {
			if byID[nodeID] == nil {
				for _, a := range list {
					stop(stopRequest{alloc: a, desc: descLost, lost: true})
				}
			}
		}
	}

	sysbatch := job.Type == structs.JobTypeSysBatch
	for _, tg := range job.TaskGroups {
		out.queued[tg.Name] = 0
		p := newGroupPlacer(eval, job, tg, nodes, usage, jobs, config, rng, s.clock)
		feasible := make(map[string]bool, len(p.nodes))
		for _, n := range p.nodes {
			feasible[n.ID] = true
		}
		for _, node := range nodes {
			running := live[tg.Name][node.ID]
			switch {
			case node.Status == structs.NodeStatusDown:
				for _, a := range running {
					stop(stopRequest{alloc: a, desc: descLost, lost: true})
				}
				continue
			case node.Drain:
				// The drainer marks system allocations last (or never,
				// with -ignore-system): only marked ones stop.
				for _, a := range running {
					if a.DesiredTransition.ShouldMigrate() {
						stop(stopRequest{alloc: a, desc: descNodeDraining})
					}
				}
				continue
			case !feasible[node.ID]:
				// A node only marked ineligible keeps what it runs; one
				// that no longer satisfies the job does not.
				if node.Status == structs.NodeStatusReady && node.SchedulingEligibility == structs.NodeSchedulingIneligible {
					continue
				}
				for _, a := range running {
					stop(stopRequest{alloc: a, desc: descNodeIneligible})
				}
				continue
			}

			// One allocation per node: the oldest is kept.
			slices.SortStableFunc(running, func(x, y *structs.Allocation) int { return cmp.Compare(x.CreateIndex, y.CreateIndex) })
			for _, extra := range running[min(1, len(running)):] {
				stop(stopRequest{alloc: extra, desc: descNotNeeded})
			}
			req := placeRequest{group: tg, name: allocName(job.ID, tg.Name, 0)}
			if len(running) > 0 {
				a := running[0]
				if !destructiveChange(a.Job, job, tg.Name) {
					if changed.changed(a.Job, job) {
						ann.group(tg.Name).InPlaceUpdate++
					} else {
						ann.group(tg.Name).Ignore++
					}
					appendInPlaceUpdates(out.plan, eval, job, []*structs.Allocation{a}, s.clock())
					continue
				}
				req.previous = a
				req.stopPrevious = &stopRequest{alloc: a, desc: descUpdating}
				ann.group(tg.Name).DestructiveUpdate++
			} else if prev := lastFinished(finished[tg.Name][node.ID]); prev != nil {
				if sysbatch && !destructiveChange(prev.Job, job, tg.Name) {
					ann.group(tg.Name).Ignore++
					continue // the work of this version is done here
				}
				req.previous = prev
			}
			if req.stopPrevious == nil {
				ann.group(tg.Name).Place++
			}
			if err := s.placeOnNode(out, p, req, node); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// placeOnNode places one allocation of the request on the given node, or
// records why it does not fit there.
func (s *genericScheduler) placeOnNode(out *outcome, p *groupPlacer, req placeRequest, node *structs.Node) error {
	if req.stopPrevious != nil {
		p.usage.stop(req.stopPrevious.alloc)
		p.allocs.stop(req.stopPrevious.alloc)
	}
	start := p.clock()
	metric := p.filters.Copy()
	metric.NodesEvaluated++
	c, err := p.rank(node, metric)
	if err != nil {
		return err
	}
	var evicted []*structs.Allocation
	if c == nil && p.config.PreemptionEnabled(p.job.Type) {
		if c, evicted, err = p.placeByPreemption(metric, node); err != nil {
			return err
		}
	}
	recordScores(metric, c)
	metric.AllocationTime = p.clock().Sub(start)
	name := req.group.Name
	if c == nil {
		if req.stopPrevious != nil {
			p.usage.unstop(req.stopPrevious.alloc)
			p.allocs.unstop(req.stopPrevious.alloc)
		}
		if prev, ok := out.failed[name]; ok {
			prev.CoalescedFailures++
		} else {
			out.failed[name] = metric
		}
		out.queued[name]++
		return nil
	}
	if req.stopPrevious != nil {
		appendStop(out.plan, *req.stopPrevious)
	}
	alloc := p.allocation(req, c, metric)
	recordEvictions(out, alloc, evicted)
	out.plan.AppendAlloc(alloc)
	p.usage.place(alloc)
	p.allocs.place(alloc)
	return nil
}

// lastFinished is the most recent of the allocations, or nil.
func lastFinished(allocs []*structs.Allocation) *structs.Allocation {
	var last *structs.Allocation
	for _, a := range allocs {
		if last == nil || a.CreateIndex > last.CreateIndex {
			last = a
		}
	}
	return last
}

func nodeDown(nodeID string, nodes []*structs.Node) bool {
	i, ok := slices.BinarySearchFunc(nodes, nodeID, func(n *structs.Node, id string) int { return cmp.Compare(n.ID, id) })
	return !ok || nodes[i].Status == structs.NodeStatusDown
}
