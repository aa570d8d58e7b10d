package scheduler

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/structs"
)

// outcome is one planning pass: the plan, and what could not be placed.
type outcome struct {
	plan *structs.Plan
	// failed explains, per group, why allocations could not be placed.
	failed map[string]*structs.AllocMetric
	// queued counts, per group, the allocations left unplaced.
	queued map[string]int
	// preempted are the jobs (namespace, ID) whose allocations the plan
	// evicts, with their priorities.
	preempted map[[2]string]int
	// followup is when the earliest delayed reschedule is due; zero when
	// none is waiting.
	followup time.Time
}

// readPlanInputs reads what every kind of plan starts from: the job (nil
// when purged), all its allocations, the nodes in ID order, and the
// scheduler configuration.
func readPlanInputs(eval *structs.Evaluation, state State) (*structs.Job, []*structs.Allocation, []*structs.Node, *structs.SchedulerConfiguration, error) {
	job, err := state.JobByID(eval.Namespace, eval.JobID)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read job %q: %w", eval.JobID, err)
	}
	allocs, err := state.AllocsByJob(eval.Namespace, eval.JobID)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read allocations of job %q: %w", eval.JobID, err)
	}
	nodes, err := state.Nodes()
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read nodes: %w", err)
	}
	// A fixed order before shuffling makes a run depend only on its seed.
	// The slice is the state's: sort a copy.
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b *structs.Node) int { return cmp.Compare(a.ID, b.ID) })
	config, err := schedulerConfig(state)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return job, allocs, nodes, config, nil
}

// computePlan reads the job, its allocations and the nodes from state and
// plans what the job needs.
func (s *genericScheduler) computePlan(eval *structs.Evaluation, state State, rng *rand.Rand) (*outcome, error) {
	job, allocs, nodes, config, err := readPlanInputs(eval, state)
	if err != nil {
		return nil, err
	}
	var dp *deployer
	if job != nil && job.Type == structs.JobTypeService {
		latest, ok, err := latestDeployment(state, eval.Namespace, eval.JobID)
		if err != nil {
			return nil, err
		}
		if ok {
			dp = newDeployer(job, latest, uuid.NewString(), s.clock())
		}
	}
	rec := reconcileDeploying(job, allocs, downNodes(allocs, nodes), s.clock(), dp)
	out := &outcome{
		plan: &structs.Plan{EvalID: eval.ID, Priority: eval.Priority, Job: job,
			Deployment: rec.deployment, DeploymentUpdates: rec.deploymentUpdates},
		failed: map[string]*structs.AllocMetric{},
	}
	if eval.AnnotatePlan {
		out.plan.Annotations = annotate(job, rec)
	}
	appendInPlaceUpdates(out.plan, eval, job, rec.kept, s.clock())
	for _, at := range rec.followups {
		if out.followup.IsZero() || at.Before(out.followup) {
			out.followup = at
		}
	}
	if !job.Stopped() {
		out.queued = map[string]int{}
		for _, tg := range job.TaskGroups {
			out.queued[tg.Name] = 0
		}
	}

	usage := newUsageTracker(state, eval.Namespace, eval.JobID)
	jobs := newJobAllocs(allocs, nodes)
	for _, st := range rec.stops {
		appendStop(out.plan, st)
		usage.stop(st.alloc)
		jobs.stop(st.alloc)
	}
	placers := map[string]*groupPlacer{}
	draining := drainingNodes(nodes)
	for _, req := range rec.places {
		name := req.group.Name
		// Once a group fails to place, the rest of it would fail the same
		// way: count them on the first failure instead of searching again.
		if m, ok := out.failed[name]; ok {
			m.CoalescedFailures++
			out.queued[name]++
			stopLeavingDrainedNode(out.plan, req, draining) // drain.go
			continue
		}
		p, ok := placers[name]
		if !ok {
			p = newGroupPlacer(eval, job, req.group, nodes, usage, jobs, config, rng, s.clock)
			placers[name] = p
		}
		// The allocation being replaced makes room for its replacement.
		if req.stopPrevious != nil {
			usage.stop(req.stopPrevious.alloc)
			jobs.stop(req.stopPrevious.alloc)
		}
		alloc, metric, evicted, err := p.place(req)
		if err != nil {
			return nil, err
		}
		if alloc == nil {
			if stopLeavingDrainedNode(out.plan, req, draining) { // drain.go
				// stopped even without a replacement
			} else if req.stopPrevious != nil {
				usage.unstop(req.stopPrevious.alloc)
				jobs.unstop(req.stopPrevious.alloc)
			}
			out.failed[name] = metric
			out.queued[name]++
			continue
		}
		if req.stopPrevious != nil {
			appendStop(out.plan, *req.stopPrevious)
		}
		if req.deploymentID != "" {
			alloc.DeploymentID = req.deploymentID
			if req.canary {
				alloc.DeploymentStatus = &structs.AllocDeploymentStatus{Canary: true}
			}
		}
		recordEvictions(out, alloc, evicted)
		out.plan.AppendAlloc(alloc)
		usage.place(alloc)
		jobs.place(alloc)
	}
	// A new deployment that placed nothing would only be noise.
	if d := out.plan.Deployment; d != nil && d.CreateIndex == 0 && len(out.plan.NodeAllocation) == 0 {
		out.plan.Deployment = nil
	}
	return out, nil
}

// downNodes are the nodes of the job's allocations that are down or gone.
func downNodes(allocs []*structs.Allocation, nodes []*structs.Node) map[string]bool {
	byID := make(map[string]*structs.Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	down := map[string]bool{}
	for _, a := range allocs {
		n, ok := byID[a.NodeID]
		if !ok || n.Status == structs.NodeStatusDown {
			down[a.NodeID] = true
		}
	}
	return down
}

func appendStop(plan *structs.Plan, st stopRequest) {
	plan.AppendStop(st.alloc, st.desc)
	if st.lost {
		stopped := plan.NodeUpdate[st.alloc.NodeID]
		stopped[len(stopped)-1].ClientStatus = structs.AllocClientStatusLost
	}
}

// summary describes the outcome for the evaluation's status description.
func (o *outcome) summary(placed, stopped int) string {
	queued := 0
	for _, n := range o.queued {
		queued += n
	}
	s := fmt.Sprintf("placed %d, stopped %d", placed, stopped)
	if queued > 0 {
		s += fmt.Sprintf(", %d queued for lack of a fitting node", queued)
	}
	return s
}
