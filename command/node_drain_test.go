package command

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// drainBackend is the fake servers plus drain and eligibility; a drain it
// is asked for completes at once.
type drainBackend struct {
	*backendtest.Server
	drains []*structs.NodeUpdateDrainRequest
	elig   []string
}

func (b *drainBackend) NodeUpdateDrain(_ context.Context, req *structs.NodeUpdateDrainRequest) (*structs.NodeDrainUpdateResponse, error) {
	b.drains = append(b.drains, req)
	for _, n := range b.Nodes {
		if n.ID == req.NodeID {
			n.LastDrain = &structs.DrainMetadata{Status: structs.DrainStatusComplete}
		}
	}
	return &structs.NodeDrainUpdateResponse{NodeModifyIndex: 11, Index: 11}, nil
}

func (b *drainBackend) NodeUpdateEligibility(_ context.Context, req *structs.NodeUpdateEligibilityRequest) (*structs.NodeEligibilityUpdateResponse, error) {
	b.elig = append(b.elig, req.NodeID+"="+req.Eligibility)
	return &structs.NodeEligibilityUpdateResponse{NodeModifyIndex: 12, Index: 12}, nil
}

func newDrainEnv(t *testing.T) *drainBackend {
	t.Helper()
	b := &drainBackend{Server: &backendtest.Server{Index: 10, Nodes: []*structs.Node{
		{ID: nodeID, Name: "n1", Status: "ready", SchedulingEligibility: "eligible"},
	}}}
	ts := httptest.NewServer(agenthttp.New(agenthttp.Config{Server: b}))
	t.Cleanup(ts.Close)
	t.Setenv(api.AddressEnv, ts.URL)
	return b
}

func TestNodeDrainCommand(t *testing.T) {
	b := newDrainEnv(t)
	runCLI(t, "", "node", "drain", "-enable", "-deadline", "5m", "-detach", "171a").want(t, 0, `Node "`+nodeID+`" drain strategy set`)
	if d := b.drains[0]; d.NodeID != nodeID || d.DrainSpec == nil || d.DrainSpec.Deadline != 5*time.Minute || d.DrainSpec.IgnoreSystemJobs {
		t.Fatalf("drain = %+v %+v", d, d.DrainSpec)
	}
	runCLI(t, "", "node", "drain", "-enable", "-force", "-ignore-system", "-detach", "171a").want(t, 0)
	if d := b.drains[1].DrainSpec; d.Deadline != -1 || !d.IgnoreSystemJobs {
		t.Fatalf("forced drain = %+v", d)
	}
	runCLI(t, "", "node", "drain", "-enable", "-no-deadline", "-detach", "171a").want(t, 0)
	if d := b.drains[2].DrainSpec; d.Deadline != 0 {
		t.Fatalf("drain without deadline = %+v", d)
	}
	runCLI(t, "", "node", "drain", "-disable", "171a").want(t, 0, "drain strategy unset")
	if d := b.drains[3]; d.DrainSpec != nil || !d.MarkEligible {
		t.Fatalf("disable = %+v", d)
	}
	runCLI(t, "", "node", "drain", "-disable", "-keep-ineligible", "171a").want(t, 0)
	if b.drains[4].MarkEligible {
		t.Fatal("-keep-ineligible marked the node eligible")
	}
	// Without -detach the command follows the drain to its end.
	runCLI(t, "", "node", "drain", "-enable", "-yes", "171a").want(t, 0, "Drain complete for node", "All allocations on node")

	runCLI(t, "", "node", "drain", "171a").want(t, 1, "Give -enable, -disable or -monitor")
	runCLI(t, "", "node", "drain", "-enable", "-disable", "171a").want(t, 1, "mutually exclusive")
	runCLI(t, "", "node", "drain", "-enable", "-force", "-no-deadline", "171a").want(t, 1, "mutually exclusive")
	runCLI(t, "", "node", "drain", "-enable").want(t, 1, "<node>, or -self")
	runCLI(t, "", "node", "drain", "-enable", "zz").want(t, 1, `No node(s) with prefix or id "zz" found`)
}

func TestNodeEligibilityCommand(t *testing.T) {
	b := newDrainEnv(t)
	runCLI(t, "", "node", "eligibility", "-disable", "171a").want(t, 0, "ineligible for scheduling")
	runCLI(t, "", "node", "eligibility", "-enable", nodeID).want(t, 0, "eligible for scheduling")
	if len(b.elig) != 2 || b.elig[0] != nodeID+"=ineligible" || b.elig[1] != nodeID+"=eligible" {
		t.Fatalf("requests = %v", b.elig)
	}
	runCLI(t, "", "node", "eligibility", "171a").want(t, 1, "exactly one of -enable or -disable")
}
