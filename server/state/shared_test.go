package state

import (
	"reflect"
	"testing"
	"time"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// The *Shared readers return what the copying readers return, and what
// they returned stays as it was when later writes change the same objects
// (stored objects are replaced, never modified).
func TestSharedReadersMatchCopiesAndStayUnchanged(t *testing.T) {
	st, err := NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	job := statetest.Job("web")
	statetest.Seed(t, st, job, "n1")
	a := statetest.Alloc("a1", job, 0, "n1", "e1")
	if err := st.UpsertAllocs(3, []*structs.Allocation{a}); err != nil {
		t.Fatal(err)
	}

	copies, err := st.AllocsByNode(nil, "n1")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := st.AllocsByNodeShared(nil, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(copies, shared) {
		t.Fatalf("shared %s\ncopies %s", statetest.Dump(shared), statetest.Dump(copies))
	}
	one, err := st.AllocByIDShared("a1")
	if err != nil || one != shared[0] {
		t.Fatalf("AllocByIDShared: %p, %v; want the stored %p", one, err, shared[0])
	}
	nodes, err := st.NodesShared()
	if err != nil || len(nodes) != 1 || nodes[0].ID != "n1" {
		t.Fatalf("NodesShared: %v, %v", nodes, err)
	}

	before := statetest.Dump(shared[0])
	nodeBefore := statetest.Dump(nodes[0])
	update := &structs.Allocation{ID: "a1", ClientStatus: structs.AllocClientStatusRunning,
		TaskStates: statetest.TaskStates(structs.TaskStateRunning, time.Unix(1700000000, 0))}
	if err := st.UpdateAllocsFromClient(4, []*structs.Allocation{update}); err != nil {
		t.Fatal(err)
	}
	n := statetest.Node("n1")
	n.Status = structs.NodeStatusDown
	if err := st.UpsertNode(5, n); err != nil {
		t.Fatal(err)
	}
	if after := statetest.Dump(shared[0]); after != before {
		t.Fatalf("a write changed an allocation read before it:\nbefore %s\nafter  %s", before, after)
	}
	if after := statetest.Dump(nodes[0]); after != nodeBefore {
		t.Fatalf("a write changed a node read before it:\nbefore %s\nafter  %s", nodeBefore, after)
	}
	now, err := st.AllocByIDShared("a1")
	if err != nil || now.ClientStatus != structs.AllocClientStatusRunning {
		t.Fatalf("after the update: %+v, %v", now, err)
	}
}
