package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/drover-project/drover/structs"
)

// NodeDrainer is what the drain and eligibility routes need of the servers.
type NodeDrainer interface {
	NodeUpdateDrain(ctx context.Context, req *structs.NodeUpdateDrainRequest) (*structs.NodeDrainUpdateResponse, error)
	NodeUpdateEligibility(ctx context.Context, req *structs.NodeUpdateEligibilityRequest) (*structs.NodeEligibilityUpdateResponse, error)
}

// registerNodeDrain adds the routes of this file.
func (a *api) registerNodeDrain(mux *http.ServeMux) {
	for _, m := range []string{"PUT", "POST"} {
		mux.HandleFunc(m+" /v1/node/{id}/drain", a.write(a.nodeDrain))
		mux.HandleFunc(m+" /v1/node/{id}/eligibility", a.write(a.nodeEligibility))
	}
}

func (a *api) nodeDrainer() (NodeDrainer, error) {
	s, ok := a.Server.(NodeDrainer)
	if !ok {
		return nil, errors.New("this server cannot drain nodes")
	}
	return s, nil
}

// nodeDrain answers PUT /v1/node/:id/drain with Nomad's body
// {"DrainSpec": {"Deadline": ns, "IgnoreSystemJobs": bool}, "MarkEligible": bool};
// a null DrainSpec ends the drain.
func (a *api) nodeDrain(r *http.Request, _ *structs.QueryOptions) (any, uint64, error) {
	s, err := a.nodeDrainer()
	if err != nil {
		return nil, 0, err
	}
	var req structs.NodeUpdateDrainRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	req.NodeID = r.PathValue("id")
	resp, err := s.NodeUpdateDrain(r.Context(), &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}

// nodeEligibility answers PUT /v1/node/:id/eligibility with
// {"Eligibility": "eligible"|"ineligible"}.
func (a *api) nodeEligibility(r *http.Request, _ *structs.QueryOptions) (any, uint64, error) {
	s, err := a.nodeDrainer()
	if err != nil {
		return nil, 0, err
	}
	var req structs.NodeUpdateEligibilityRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, 0, err
	}
	req.NodeID = r.PathValue("id")
	if err := req.Validate(); err != nil {
		return nil, 0, badRequest("%v", err)
	}
	resp, err := s.NodeUpdateEligibility(r.Context(), &req)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}
