package endpoints

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// systemJobEvals makes an evaluation of every running system and sysbatch
// job for a node that became ready or changed, so such jobs reach nodes
// that join after them. Each evaluation names the node.
func (e *Endpoints) systemJobEvals(nodeID string) ([]*structs.Evaluation, error) {
	jobs, err := e.d.State().Jobs(nil)
	if err != nil {
		return nil, fmt.Errorf("list jobs for node %s: %w", nodeID, err)
	}
	var evals []*structs.Evaluation
	for _, job := range jobs {
		if job.Stopped() || (job.Type != structs.JobTypeSystem && job.Type != structs.JobTypeSysBatch) {
			continue
		}
		ev := e.newEval(job, structs.EvalTriggerNodeUpdate)
		ev.NodeID = nodeID
		evals = append(evals, ev)
	}
	return evals, nil
}

// nodeNeedsSystemEvals reports whether a registration changes what system
// jobs may run on the node: it is new, it became ready, or its computed
// class (attributes, drivers, metadata) changed.
func nodeNeedsSystemEvals(old, n *structs.Node) bool {
	if n.Status != structs.NodeStatusReady {
		return false
	}
	return old == nil || old.Status != structs.NodeStatusReady || old.ComputedClass != n.ComputedClass
}
