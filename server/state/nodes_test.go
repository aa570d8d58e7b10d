package state

import (
	"errors"
	"slices"
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestNodes(t *testing.T) {
	s := newStore(t)
	must(t, s.UpsertNode(10, statetest.Node("n2")))
	must(t, s.UpsertNode(11, statetest.Node("n1")))
	must(t, s.UpsertNode(12, statetest.Node("m1")))

	again := statetest.Node("n2")
	again.Attributes["cpu.numcores"] = "8"
	must(t, s.UpsertNode(13, again))
	n, err := s.NodeByID(nil, "n2")
	must(t, err)
	if n.CreateIndex != 10 || n.ModifyIndex != 13 || n.Attributes["cpu.numcores"] != "8" || n.SecretID != "secret-n2" {
		t.Fatalf("re-registered node = %+v", n)
	}

	must(t, s.UpdateNodeStatus(14, "n2", structs.NodeStatusDown, 1700000000, statetest.Eval("e1", statetest.Job("web"))))
	n, err = s.NodeByID(nil, "n2")
	must(t, err)
	if n.Status != structs.NodeStatusDown || n.StatusUpdatedAt != 1700000000 || n.ModifyIndex != 14 || n.CreateIndex != 10 {
		t.Fatalf("node after status update = %+v", n)
	}
	if e, _ := s.EvalByID(nil, "e1"); e == nil {
		t.Fatal("eval not committed with the node status")
	}
	if err := s.UpdateNodeStatus(15, "nope", structs.NodeStatusDown, 1); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("status of a missing node: %v, want not found", err)
	}
	mustIndex(t, s, TableNodes, 14)

	nodes, err := s.Nodes(nil)
	must(t, err)
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.ID)
	}
	if !slices.Equal(ids, []string{"m1", "n1", "n2"}) {
		t.Fatalf("Nodes = %v", ids)
	}
	nodes, err = s.NodesByIDPrefix(nil, "n")
	must(t, err)
	if len(nodes) != 2 {
		t.Fatalf("NodesByIDPrefix = %d nodes, want 2", len(nodes))
	}
}
