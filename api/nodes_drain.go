package api

import (
	"net/http"

	"github.com/drover-project/drover/structs"
)

// UpdateDrain starts (spec non-nil) or ends (spec nil) a node's drain, as
// PUT /v1/node/:id/drain. Ending a drain with markEligible makes the node
// eligible again.
func (n *Nodes) UpdateDrain(nodeID string, spec *structs.DrainSpec, markEligible bool) (*structs.NodeDrainUpdateResponse, error) {
	req := &structs.NodeUpdateDrainRequest{NodeID: nodeID, DrainSpec: spec, MarkEligible: markEligible}
	var out structs.NodeDrainUpdateResponse
	index, err := n.c.write(http.MethodPut, "/v1/node/"+escape(nodeID)+"/drain", n.c.params(nil), req, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}

// ToggleEligibility marks a node eligible or not, as PUT
// /v1/node/:id/eligibility.
func (n *Nodes) ToggleEligibility(nodeID string, eligible bool) (*structs.NodeEligibilityUpdateResponse, error) {
	req := &structs.NodeUpdateEligibilityRequest{NodeID: nodeID, Eligibility: structs.NodeSchedulingIneligible}
	if eligible {
		req.Eligibility = structs.NodeSchedulingEligible
	}
	var out structs.NodeEligibilityUpdateResponse
	index, err := n.c.write(http.MethodPut, "/v1/node/"+escape(nodeID)+"/eligibility", n.c.params(nil), req, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}
