package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

var drainJob = webJob{Name: "e2e-drain", Count: 2, GroupExtra: `
migrate {
  max_parallel     = 1
  min_healthy_time = "10s"
}
`}.HCL()

var eligibilityJob = webJob{Name: "e2e-eligible"}.HCL()

// TestNodeDrainAndEligibility drains the only node of a dev agent with a
// 5 s deadline: with nowhere to move to, its allocations are stopped at the
// deadline and the node ends ineligible with its drain cleared. An
// ineligible node gets no new job (the placement failure says why); made
// eligible again, it runs it.
func TestNodeDrainAndEligibility(t *testing.T) {
	a := startAgent(t)
	var nodes []*structs.NodeListStub
	if err := getJSON(a.Addr+"/v1/nodes", &nodes); err != nil {
		t.Fatal(err)
	}
	nodeID := nodes[0].ID

	if out, code := drover(t, a, "job", "run", writeJob(t, drainJob)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	waitRunning(t, a.Addr, "e2e-drain", 2)

	// The node's status shows its allocations and what they use.
	out, code := drover(t, a, "node", "status", "-self")
	if code != 0 || !strings.Contains(out, "Allocated Resources") || !strings.Contains(out, "e2e-drain") {
		t.Errorf("node status -self exited %d:\n%s", code, out)
	}

	start := time.Now()
	out, code = drover(t, a, "node", "drain", "-enable", "-deadline", "5s", "-yes", nodeID[:8])
	if code != 0 || !strings.Contains(out, "drain strategy set") || !strings.Contains(out, "Drain complete") {
		t.Fatalf("node drain exited %d:\n%s", code, out)
	}
	if took := time.Since(start); took < 4*time.Second {
		t.Errorf("the drain finished after %s, before its 5s deadline: the allocations could not be healthy", took)
	}
	var stubs []*structs.AllocListStub
	if err := getJSON(a.Addr+"/v1/job/e2e-drain/allocations", &stubs); err != nil {
		t.Fatal(err)
	}
	for _, s := range stubs {
		if s.DesiredStatus != structs.AllocDesiredStatusStop || s.ClientStatus == structs.AllocClientStatusRunning {
			t.Errorf("alloc %s after the drain: desired %s, client %s", s.ID, s.DesiredStatus, s.ClientStatus)
		}
	}
	var node structs.Node
	if err := getJSON(a.Addr+"/v1/node/"+nodeID, &node); err != nil {
		t.Fatal(err)
	}
	if node.Drain || node.DrainStrategy != nil || node.SchedulingEligibility != structs.NodeSchedulingIneligible {
		t.Fatalf("node after the drain: drain %v %+v, eligibility %s", node.Drain, node.DrainStrategy, node.SchedulingEligibility)
	}
	if node.LastDrain == nil || node.LastDrain.Status != structs.DrainStatusComplete {
		t.Errorf("LastDrain = %+v, want complete", node.LastDrain)
	}
	if out, code := drover(t, a, "job", "stop", "-purge", "-yes", "e2e-drain"); code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}

	// Ineligible: a new job is not placed, and the failure says why.
	out, _ = drover(t, a, "job", "run", writeJob(t, eligibilityJob))
	if !strings.Contains(out, "node is ineligible") {
		t.Errorf("job run on an ineligible node does not say why it was not placed:\n%s", out)
	}
	if out, code := drover(t, a, "node", "eligibility", "-enable", nodeID); code != 0 || !strings.Contains(out, "eligible for scheduling") {
		t.Fatalf("node eligibility -enable exited %d:\n%s", code, out)
	}
	waitRunning(t, a.Addr, "e2e-eligible", 1)

	if out, code := drover(t, a, "node", "eligibility", "-disable", nodeID); code != 0 {
		t.Fatalf("node eligibility -disable exited %d:\n%s", code, out)
	}
	waitFor(t, 10*time.Second, "the node ineligible", func() (bool, error) {
		var n structs.Node
		if err := getJSON(a.Addr+"/v1/node/"+nodeID, &n); err != nil {
			return false, err
		}
		return n.SchedulingEligibility == structs.NodeSchedulingIneligible, fmt.Errorf("eligibility %s", n.SchedulingEligibility)
	})
	// What runs on an ineligible node keeps running.
	waitRunning(t, a.Addr, "e2e-eligible", 1)
	if out, code := drover(t, a, "job", "stop", "-purge", "-yes", "e2e-eligible"); code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}
}
