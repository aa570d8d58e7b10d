package state

import (
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func instance(id, alloc, node string) *structs.ServiceRegistration {
	return &structs.ServiceRegistration{
		ID: id, ServiceName: "api", Namespace: structs.DefaultNamespace, NodeID: node, JobID: "web",
		AllocID: alloc, Address: "10.0.0.1", Port: 20000, Tags: []string{"v1"}, Health: structs.HealthPassing,
	}
}

// running stores job web, nodes n1 and n2, and allocations a1 (on n1) and
// a2 (on n2), both running, by index 13.
func running(t *testing.T, s *StateStore) {
	t.Helper()
	job := registered(t, s)
	must(t, s.UpsertNode(11, statetest.Node("n1")))
	must(t, s.UpsertNode(11, statetest.Node("n2")))
	must(t, s.UpsertAllocs(12, []*structs.Allocation{
		statetest.Alloc("a1", job, 0, "n1", "e1"), statetest.Alloc("a2", job, 1, "n2", "e1"),
	}))
	must(t, s.UpdateAllocsFromClient(13, []*structs.Allocation{
		clientUpdate("a1", structs.AllocClientStatusRunning), clientUpdate("a2", structs.AllocClientStatusRunning),
	}))
}

func wantInstances(t *testing.T, s *StateStore, want ...string) {
	t.Helper()
	regs, err := s.ServiceRegistrationsByName(nil, structs.DefaultNamespace, "api")
	must(t, err)
	var got []string
	for _, r := range regs {
		got = append(got, r.ID)
	}
	if len(got) != len(want) {
		t.Fatalf("instances = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("instances = %v, want %v", got, want)
		}
	}
}

func TestServiceRegistrationsUpsertKeepsCreateIndexAndDeletes(t *testing.T) {
	s := newStore(t)
	running(t, s)
	must(t, s.UpsertServiceRegistrations(20, []*structs.ServiceRegistration{instance("i1", "a1", "n1"), instance("i2", "a2", "n2")}))
	wantInstances(t, s, "i1", "i2")
	mustIndex(t, s, TableServiceRegistrations, 20)

	critical := instance("i1", "a1", "n1")
	critical.Health = structs.HealthCritical
	must(t, s.UpsertServiceRegistrations(21, []*structs.ServiceRegistration{critical}))
	got, err := s.ServiceRegistrationByID(nil, "i1")
	must(t, err)
	if got.CreateIndex != 20 || got.ModifyIndex != 21 || got.Health != structs.HealthCritical {
		t.Fatalf("after update: %+v", got)
	}

	must(t, s.DeleteServiceRegistrations(22, []string{"i2", "unknown"}))
	wantInstances(t, s, "i1")
	byNode, err := s.ServiceRegistrationsByNode(nil, "n1")
	must(t, err)
	if len(byNode) != 1 {
		t.Fatalf("instances of n1: %d", len(byNode))
	}
}

func TestServiceRegistrationsGoWithTheirAllocationOrNode(t *testing.T) {
	s := newStore(t)
	running(t, s)
	must(t, s.UpsertServiceRegistrations(20, []*structs.ServiceRegistration{instance("i1", "a1", "n1"), instance("i2", "a2", "n2")}))

	// The allocation ends: its instance goes.
	must(t, s.UpdateAllocsFromClient(21, []*structs.Allocation{clientUpdate("a1", structs.AllocClientStatusComplete)}))
	wantInstances(t, s, "i2")
	mustIndex(t, s, TableServiceRegistrations, 21)

	// A late report of the ended allocation's instance is dropped.
	must(t, s.UpsertServiceRegistrations(22, []*structs.ServiceRegistration{instance("i1", "a1", "n1")}))
	wantInstances(t, s, "i2")

	// The node goes down: its instances go.
	must(t, s.UpdateNodeStatus(23, "n2", structs.NodeStatusDown, 1700000000))
	wantInstances(t, s)

	// An instance of an unknown (garbage collected) allocation is dropped.
	must(t, s.UpsertServiceRegistrations(24, []*structs.ServiceRegistration{instance("i3", "gone", "n1")}))
	wantInstances(t, s)
}

func TestServiceRegistrationsAreCopies(t *testing.T) {
	s := newStore(t)
	running(t, s)
	must(t, s.UpsertServiceRegistrations(20, []*structs.ServiceRegistration{instance("i1", "a1", "n1")}))
	statetest.RequireCopies(t, "ServiceRegistrations", func() (any, error) { return s.ServiceRegistrations(nil) })
	statetest.RequireCopies(t, "ServiceRegistrationByID", func() (any, error) { return s.ServiceRegistrationByID(nil, "i1") })
}

func TestServiceRegistrationNeedsItsIDs(t *testing.T) {
	s := newStore(t)
	bad := instance("", "a1", "n1")
	if err := s.UpsertServiceRegistrations(20, []*structs.ServiceRegistration{bad}); err == nil {
		t.Fatal("an instance without an ID was stored")
	}
}
