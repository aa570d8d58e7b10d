package scheduler

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/structs"
)

// Exhausted dimensions, as counted in AllocMetric.DimensionExhausted.
const (
	dimensionCPU    = "cpu"
	dimensionMemory = "memory"
	dimensionDisk   = "disk"
)

// groupPlacer chooses nodes for the allocations of one task group within
// one plan. It filters the nodes once, shuffles them, and then for each
// placement walks on from where the previous one stopped, ranking a bounded
// number of nodes that fit.
type groupPlacer struct {
	eval    *structs.Evaluation
	job     *structs.Job
	tg      *structs.TaskGroup
	usage   *usageTracker
	rng     *rand.Rand
	clock   func() time.Time
	nodes   []*structs.Node
	cursor  int
	limit   int
	filters *structs.AllocMetric
	askCPU  int64
	askMem  int64
	askDisk int64
	// config is the cluster's scheduler configuration.
	config *structs.SchedulerConfiguration
	// The rules that depend on where the job's other allocations are.
	allocs   *jobAllocs
	distinct []distinctRule
	affinity *affinityScorer
	spread   *spreadScorer
}

func newGroupPlacer(eval *structs.Evaluation, job *structs.Job, tg *structs.TaskGroup, nodes []*structs.Node,
	usage *usageTracker, allocs *jobAllocs, config *structs.SchedulerConfiguration, rng *rand.Rand, clock func() time.Time) *groupPlacer {
	feasible, filters := feasibleNodes(job, tg, nodes)
	rng.Shuffle(len(feasible), func(i, j int) { feasible[i], feasible[j] = feasible[j], feasible[i] })
	cpu, mem := groupAsk(tg)
	return &groupPlacer{eval: eval, job: job, tg: tg, usage: usage, rng: rng, clock: clock,
		nodes: feasible, limit: candidateLimit(len(feasible)), filters: filters, askCPU: cpu, askMem: mem, askDisk: groupDisk(tg),
		config: config, allocs: allocs, distinct: distinctRules(job, tg), affinity: newAffinityScorer(job, tg, newMatcher()),
		spread: newSpreadScorer(job, tg, allocs, feasible)}
}

// candidate is a node the allocation fits on, with its score.
type candidate struct {
	node  *structs.Node
	ports portAssignment
	score float64
	// parts are the scores averaged into score, for the metric.
	parts []scorePart
}

// place finds a node for the request and returns the allocation, or nil
// when no node fits. The metric says how the node was chosen, or why none
// was. evicted are the lower-priority allocations to evict for it, when
// nothing fit without preemption.
func (p *groupPlacer) place(req placeRequest) (alloc *structs.Allocation, metric *structs.AllocMetric, evicted []*structs.Allocation, err error) {
	start := p.clock()
	metric = p.filters.Copy()
	var best, avoided *candidate
	var top topCandidates
	fitting, skipped, scanned := 0, 0, 0
	for scanned < len(p.nodes) && fitting < p.limit {
		node := p.nodes[(p.cursor+scanned)%len(p.nodes)]
		scanned++
		metric.NodesEvaluated++
		c, err := p.rank(node, metric)
		if err != nil {
			return nil, nil, nil, err
		}
		if c == nil {
			continue
		}
		top.add(c)
		// The node where the previous allocation failed is the last resort.
		if node.ID == req.avoidNode {
			avoided = c
			continue
		}
		if c.score < 0 && skipped < maxSkip {
			skipped++
		} else {
			fitting++
		}
		if best == nil || c.score > best.score {
			best = c
		}
	}
	if len(p.nodes) > 0 {
		p.cursor = (p.cursor + scanned) % len(p.nodes)
	}
	if best == nil {
		best = avoided
	}
	for _, c := range top {
		recordScore(metric, c)
	}
	recordScores(metric, best)
	if best == nil && p.config.PreemptionEnabled(p.job.Type) {
		if best, evicted, err = p.placeByPreemption(metric, nil); err != nil {
			return nil, nil, nil, err
		}
		recordScores(metric, best)
	}
	metric.AllocationTime = p.clock().Sub(start)
	if best == nil {
		return nil, metric, nil, nil
	}
	return p.allocation(req, best, metric), metric, evicted, nil
}

// rank checks that the group fits on the node and scores it, or records in
// metric why it does not fit and returns nil.
func (p *groupPlacer) rank(node *structs.Node, metric *structs.AllocMetric) (*candidate, error) {
	if reason := distinctReason(p.distinct, p.allocs, node); reason != "" {
		metric.FilterNode(node.NodeClass, reason)
		return nil, nil
	}
	u, err := p.usage.usage(node.ID)
	if err != nil {
		return nil, err
	}
	capCPU, capMem := nodeCapacity(node)
	cpu, mem := u.cpu+p.askCPU, u.memMB+p.askMem
	if cpu > capCPU {
		metric.ExhaustedNode(node.NodeClass, dimensionCPU)
		return nil, nil
	}
	if mem > capMem {
		metric.ExhaustedNode(node.NodeClass, dimensionMemory)
		return nil, nil
	}
	// As Nomad, the ephemeral disk is not enforced at run time but counts
	// in placement: the node must have room for all its allocations'.
	if capDisk, ok := nodeDisk(node); ok && u.diskMB+p.askDisk > capDisk {
		metric.ExhaustedNode(node.NodeClass, dimensionDisk)
		return nil, nil
	}
	ports, dim := assignPorts(p.tg, node, u.ports, p.rng)
	if dim != "" {
		metric.ExhaustedNode(node.NodeClass, dim)
		return nil, nil
	}

	// As Nomad, the scores that apply to a node are averaged.
	c := &candidate{node: node, ports: ports}
	sum := 0.0
	add := func(name string, s float64) {
		c.parts = append(c.parts, scorePart{name, s})
		sum += s
	}
	if p.config.SchedulerAlgorithm == structs.SchedulerAlgorithmSpread {
		add("spread", spreadFitScore(capCPU, capMem, cpu, mem))
	} else {
		add("binpack", binPackScore(capCPU, capMem, cpu, mem))
	}
	if n := u.groups[p.tg.Name]; n > 0 {
		add("job-anti-affinity", antiAffinityPenalty(n, p.tg.Count))
	}
	if s, ok := p.affinity.score(node); ok {
		add("node-affinity", s)
	}
	if s, ok := p.spread.score(node); ok {
		add("allocation-spread", s)
	}
	c.score = sum / float64(len(c.parts))
	return c, nil
}

// maxScoredNodes is how many ranked nodes' final scores a placement's
// metric keeps, the best first (as Nomad's top five): enough to explain
// the choice, while an allocation does not carry every ranked node's
// scores.
const maxScoredNodes = 5

// scorePart is one scorer's score of a node.
type scorePart struct {
	name  string
	score float64
}

// recordScore writes the candidate's final score into the metric, keyed
// "<node ID>.normalized-score".
func recordScore(metric *structs.AllocMetric, c *candidate) {
	if c == nil {
		return
	}
	if metric.Scores == nil {
		metric.Scores = make(map[string]float64, maxScoredNodes+len(c.parts))
	}
	metric.Scores[c.node.ID+".normalized-score"] = c.score
}

// recordScores writes the chosen candidate's final score and each of the
// scores it averages, keyed "<node ID>.<scorer>". The other ranked nodes
// keep only their final score (recordScore): every allocation carries its
// metric, so each key costs in the Raft log, the state and every answer
// to its client.
func recordScores(metric *structs.AllocMetric, c *candidate) {
	if c == nil {
		return
	}
	recordScore(metric, c)
	for _, part := range c.parts {
		metric.Scores[c.node.ID+"."+part.name] = part.score
	}
}

// topCandidates keeps the best maxScoredNodes candidates, best first.
type topCandidates []*candidate

func (t *topCandidates) add(c *candidate) {
	i := len(*t)
	for i > 0 && (*t)[i-1].score < c.score {
		i--
	}
	if i >= maxScoredNodes {
		return
	}
	*t = slices.Insert(*t, i, c)
	if len(*t) > maxScoredNodes {
		*t = (*t)[:maxScoredNodes]
	}
}

// allocation builds the allocation placed on the chosen node.
func (p *groupPlacer) allocation(req placeRequest, c *candidate, metric *structs.AllocMetric) *structs.Allocation {
	now := p.clock().UnixNano()
	tasks := make(map[string]*structs.AllocatedTaskResources, len(p.tg.Tasks))
	for _, t := range p.tg.Tasks {
		r := resourcesOf(t)
		// memory_max counts only when the cluster allows oversubscription.
		maxMB := int64(0)
		if p.config.MemoryOversubscriptionEnabled && r.MemoryMaxMB > r.MemoryMB {
			maxMB = int64(r.MemoryMaxMB)
		}
		tasks[t.Name] = &structs.AllocatedTaskResources{
			Cpu:    structs.AllocatedCpuResources{CpuShares: int64(r.CPU)},
			Memory: structs.AllocatedMemoryResources{MemoryMB: int64(r.MemoryMB), MemoryMaxMB: maxMB},
		}
	}
	a := &structs.Allocation{
		ID:        uuid.NewString(),
		Namespace: p.job.Namespace,
		EvalID:    p.eval.ID,
		Name:      req.name,
		NodeID:    c.node.ID,
		NodeName:  c.node.Name,
		JobID:     p.job.ID,
		Job:       p.job,
		TaskGroup: p.tg.Name,
		AllocatedResources: &structs.AllocatedResources{
			Tasks:  tasks,
			Shared: structs.AllocatedSharedResources{Networks: c.ports.networks, Ports: c.ports.ports, DiskMB: p.askDisk},
		},
		DesiredStatus: structs.AllocDesiredStatusRun,
		ClientStatus:  structs.AllocClientStatusPending,
		Metrics:       metric,
		CreateTime:    now,
		ModifyTime:    now,
	}
	if req.previous != nil {
		a.PreviousAllocation = req.previous.ID
		if req.stopPrevious != nil && req.stopPrevious.desc == descRescheduled {
			a.RescheduleTracker = rescheduleTracker(req, now)
		}
	}
	return a
}
