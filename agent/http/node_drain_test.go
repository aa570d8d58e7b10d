package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/structs"
)

// drainServer records drain and eligibility requests.
type drainServer struct {
	*backendtest.Server
	drains []*structs.NodeUpdateDrainRequest
	elig   []*structs.NodeUpdateEligibilityRequest
}

func (s *drainServer) NodeUpdateDrain(_ context.Context, req *structs.NodeUpdateDrainRequest) (*structs.NodeDrainUpdateResponse, error) {
	s.drains = append(s.drains, req)
	return &structs.NodeDrainUpdateResponse{NodeModifyIndex: 12, Index: 12}, nil
}

func (s *drainServer) NodeUpdateEligibility(_ context.Context, req *structs.NodeUpdateEligibilityRequest) (*structs.NodeEligibilityUpdateResponse, error) {
	s.elig = append(s.elig, req)
	return &structs.NodeEligibilityUpdateResponse{NodeModifyIndex: 13, Index: 13}, nil
}

// Nomad's drain and eligibility bodies reach the servers as sent; a bad
// eligibility value is a 400 that names the field.
func TestNodeDrainAndEligibilityRoutes(t *testing.T) {
	ds := &drainServer{Server: &backendtest.Server{Index: 7}}
	e := newEnv(t, func(c *agenthttp.Config) { c.Server = ds })

	resp, body := e.do(t, http.MethodPut, "/v1/node/n1/drain", `{"DrainSpec":{"Deadline":5000000000,"IgnoreSystemJobs":true},"MarkEligible":false}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"NodeModifyIndex":12`) || resp.Header.Get("X-Nomad-Index") != "12" {
		t.Fatalf("drain: %s %s", resp.Status, body)
	}
	if len(ds.drains) != 1 || ds.drains[0].NodeID != "n1" || ds.drains[0].DrainSpec == nil ||
		ds.drains[0].DrainSpec.Deadline != 5*time.Second || !ds.drains[0].DrainSpec.IgnoreSystemJobs {
		t.Fatalf("drain request = %+v", ds.drains)
	}
	resp, _ = e.do(t, http.MethodPost, "/v1/node/n1/drain", `{"DrainSpec":null,"MarkEligible":true}`)
	if resp.StatusCode != http.StatusOK || ds.drains[1].DrainSpec != nil || !ds.drains[1].MarkEligible {
		t.Fatalf("drain off: %s %+v", resp.Status, ds.drains[1])
	}

	resp, _ = e.do(t, http.MethodPut, "/v1/node/n1/eligibility", `{"Eligibility":"ineligible"}`)
	if resp.StatusCode != http.StatusOK || len(ds.elig) != 1 || ds.elig[0].Eligibility != "ineligible" || ds.elig[0].NodeID != "n1" {
		t.Fatalf("eligibility: %s %+v", resp.Status, ds.elig)
	}
	resp, body = e.do(t, http.MethodPut, "/v1/node/n1/eligibility", `{"Eligibility":"maybe"}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Eligibility") {
		t.Fatalf("bad eligibility: %s %s", resp.Status, body)
	}
	resp, _ = e.do(t, http.MethodPut, "/v1/node/n1/drain", `{"DrainSpec":`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed drain body: %s", resp.Status)
	}
}
