package structs

// Plan is what one scheduler run wants to change: allocations to stop and
// allocations to place, grouped by node. The plan applier checks it against
// the current state before committing, so concurrent plans cannot overcommit.
type Plan struct {
	EvalID   string
	Priority int
	Job      *Job
	// NodeUpdate lists allocations to stop, per node.
	NodeUpdate map[string][]*Allocation
	// NodeAllocation lists allocations to place or update, per node.
	NodeAllocation map[string][]*Allocation
	// Annotations say what the plan does per group, when the evaluation
	// asked for them (AnnotatePlan).
	Annotations *PlanAnnotations `json:",omitempty"`
	// Deployment is created or updated with the plan; DeploymentUpdates
	// change other deployments' status (cancel an older one).
	Deployment        *Deployment               `json:",omitempty"`
	DeploymentUpdates []*DeploymentStatusUpdate `json:",omitempty"`
}

// AppendStop adds a stop of alloc with the given description.
func (p *Plan) AppendStop(alloc *Allocation, desc string) {
	a := alloc.Copy()
	a.DesiredStatus = AllocDesiredStatusStop
	a.DesiredDescription = desc
	if p.NodeUpdate == nil {
		p.NodeUpdate = map[string][]*Allocation{}
	}
	p.NodeUpdate[a.NodeID] = append(p.NodeUpdate[a.NodeID], a)
}

// AppendAlloc adds a placement.
func (p *Plan) AppendAlloc(alloc *Allocation) {
	if p.NodeAllocation == nil {
		p.NodeAllocation = map[string][]*Allocation{}
	}
	p.NodeAllocation[alloc.NodeID] = append(p.NodeAllocation[alloc.NodeID], alloc)
}

// IsNoOp reports whether the plan changes nothing.
func (p *Plan) IsNoOp() bool {
	return len(p.NodeUpdate) == 0 && len(p.NodeAllocation) == 0 && p.Deployment == nil && len(p.DeploymentUpdates) == 0
}

// PlanResult is what the applier committed. Nodes whose part of the plan no
// longer fit are left out; RefreshIndex tells the scheduler to retry from a
// state at least that new.
type PlanResult struct {
	NodeUpdate     map[string][]*Allocation
	NodeAllocation map[string][]*Allocation
	RefreshIndex   uint64
	AllocIndex     uint64
}

// FullCommit reports whether everything in the plan was committed.
func (r *PlanResult) FullCommit(p *Plan) bool {
	want, got := 0, 0
	for _, a := range p.NodeAllocation {
		want += len(a)
	}
	for _, a := range r.NodeAllocation {
		got += len(a)
	}
	return want == got
}
