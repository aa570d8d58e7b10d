package e2e

import (
	"fmt"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// TestNomadGoClientDrain drives drain and eligibility through Nomad's own
// Go client: its requests are understood and its answers decode.
func TestNomadGoClientDrain(t *testing.T) {
	a := startAgent(t)
	c := nomadClient(t, a.Addr)
	nodes, _, err := c.Nodes().List(nil)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes %v, err %v", nodes, err)
	}
	id := nodes[0].ID

	if _, err := c.Nodes().UpdateDrain(id, &nomad.DrainSpec{Deadline: time.Hour}, false, nil); err != nil {
		t.Fatalf("UpdateDrain: %v", err)
	}
	node, _, err := c.Nodes().Info(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	// An empty node's drain completes at once, leaving it ineligible.
	if node.DrainStrategy != nil && node.DrainStrategy.Deadline != time.Hour {
		t.Errorf("drain strategy = %+v", node.DrainStrategy)
	}
	waitFor(t, 30*time.Second, "the drain to complete", func() (bool, error) {
		node, _, err := c.Nodes().Info(id, nil)
		if err != nil {
			return false, err
		}
		return node.DrainStrategy == nil && node.LastDrain != nil && node.LastDrain.Status == nomad.DrainStatusComplete,
			fmt.Errorf("drain %+v, last %+v", node.DrainStrategy, node.LastDrain)
	})
	if node, _, _ = c.Nodes().Info(id, nil); node.SchedulingEligibility != nomad.NodeSchedulingIneligible {
		t.Errorf("eligibility after the drain = %q", node.SchedulingEligibility)
	}
	if _, err := c.Nodes().ToggleEligibility(id, true, nil); err != nil {
		t.Fatalf("ToggleEligibility: %v", err)
	}
	if node, _, _ = c.Nodes().Info(id, nil); node.SchedulingEligibility != nomad.NodeSchedulingEligible {
		t.Errorf("eligibility = %q, want eligible", node.SchedulingEligibility)
	}
}
