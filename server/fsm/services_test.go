package fsm

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// withInstances returns an FSM with job web's allocation a1 running on n1
// and two instances of service api registered for it by index 21.
func withInstances(t *testing.T) *FSM {
	t.Helper()
	f := New(nil)
	job := statetest.Job("web")
	applyOK(t, f, 10, NodeRegister, &NodeRegisterRequest{Node: statetest.Node("n1")})
	applyOK(t, f, 11, JobRegister, &JobRegisterRequest{Job: job, Eval: statetest.Eval("e1", job)})
	stored, err := f.State().JobByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	place := statetest.Alloc("a1", stored, 0, "n1", "e1")
	place.Job = nil
	applyOK(t, f, 12, ApplyPlanResults, &ApplyPlanResultsRequest{Job: stored, AllocsUpdated: []*structs.Allocation{place}, EvalID: "e1"})
	applyOK(t, f, 13, AllocClientUpdate, &AllocClientUpdateRequest{Allocs: []*structs.Allocation{{
		ID: "a1", ClientStatus: structs.AllocClientStatusRunning,
		TaskStates: statetest.TaskStates(structs.TaskStateRunning, time.Unix(1700000000, 5)), ModifyTime: 1700000000,
	}}})
	reg := func(id string) *structs.ServiceRegistration {
		return &structs.ServiceRegistration{ID: id, ServiceName: "api", Namespace: structs.DefaultNamespace, NodeID: "n1",
			JobID: "web", AllocID: "a1", Address: "10.0.0.1", Port: 20000, Health: structs.HealthPassing,
			Ingress: &structs.ServiceIngress{Port: 8080, Protocol: structs.IngressProtocolHTTP}}
	}
	applyOK(t, f, 20, ServiceRegistrationUpsert, &ServiceRegistrationUpsertRequest{Registrations: []*structs.ServiceRegistration{reg("i1"), reg("i2")}})
	applyOK(t, f, 21, ServiceRegistrationDelete, &ServiceRegistrationDeleteRequest{IDs: []string{"i2"}})
	return f
}

func TestApplyServiceRegistrations(t *testing.T) {
	f := withInstances(t)
	regs, err := f.State().ServiceRegistrations(nil)
	must(t, err)
	if len(regs) != 1 || regs[0].ID != "i1" || regs[0].CreateIndex != 20 || regs[0].Ingress == nil {
		t.Fatalf("instances after upsert and delete: %s", statetest.Dump(regs))
	}
}

func TestServiceRegistrationsSurviveASnapshot(t *testing.T) {
	src := withInstances(t)
	dst := New(nil)
	must(t, dst.Restore(io.NopCloser(bytes.NewReader(persist(t, src)))))
	a, err := src.State().ServiceRegistrations(nil)
	must(t, err)
	b, err := dst.State().ServiceRegistrations(nil)
	must(t, err)
	if statetest.Dump(a) != statetest.Dump(b) {
		t.Fatalf("restored instances differ:\nsource:   %s\nrestored: %s", statetest.Dump(a), statetest.Dump(b))
	}
}
