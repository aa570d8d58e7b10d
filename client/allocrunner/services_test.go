package allocrunner

import (
	"sync"
	"testing"

	"github.com/drover-project/drover/client/checks"
	"github.com/drover-project/drover/structs"
)

// fakeRegistry keeps the registered instances.
type fakeRegistry struct {
	mu   sync.Mutex
	regs map[string]*structs.ServiceRegistration
}

func (f *fakeRegistry) RegisterServices(regs []*structs.ServiceRegistration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range regs {
		f.regs[r.ID] = r.Copy()
	}
}

func (f *fakeRegistry) DeregisterServices(ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.regs, id)
	}
}

func (f *fakeRegistry) get(id string) *structs.ServiceRegistration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.regs[id].Copy()
}

func serviceAlloc() *structs.Allocation {
	a := testAlloc(structs.JobTypeService, &structs.Task{Name: "app", Driver: "mock",
		Services: []*structs.Service{{Name: "metrics", PortLabel: "9100"}}})
	a.AllocatedResources = &structs.AllocatedResources{Shared: structs.AllocatedSharedResources{
		Ports: []structs.AllocatedPortMapping{{Label: "http", Value: 23456, To: 8080}}}}
	a.Job.TaskGroups[0].Services = []*structs.Service{{
		Name: "api", PortLabel: "http", Tags: []string{"v1"}, Meta: map[string]string{"team": "core"},
		Checks:  []*structs.ServiceCheck{{Name: "health", Type: structs.CheckTypeHTTP, Path: "/health"}},
		Ingress: &structs.ServiceIngress{Port: 8080},
	}}
	return a
}

func TestServicesFollowTheAllocationAndItsChecks(t *testing.T) {
	alloc := serviceAlloc()
	reg := &fakeRegistry{regs: map[string]*structs.ServiceRegistration{}}
	ar := &AllocRunner{services: newServices(reg, alloc, &structs.Node{ID: "node-1", Datacenter: "dc2"}, "10.0.0.5")}
	apiID := ServiceInstanceID(alloc.ID, "group", "", alloc.Job.TaskGroups[0].Services[0])
	metricsID := ServiceInstanceID(alloc.ID, "group", "app", alloc.Job.TaskGroups[0].Tasks[0].Services[0])
	if apiID != "_nomad-task-alloc-1-group-api-http" {
		t.Errorf("instance ID %q", apiID)
	}

	ar.services.allocUpdated(structs.AllocClientStatusPending, false)
	if len(reg.regs) != 0 {
		t.Fatal("a pending allocation registered its services")
	}
	ar.services.allocUpdated(structs.AllocClientStatusRunning, false)
	api := reg.get(apiID)
	if api == nil || api.Address != "10.0.0.5" || api.Port != 23456 || api.NodeID != "node-1" || api.Datacenter != "dc2" || api.AllocID != "alloc-1" ||
		api.JobID != "job" || api.Meta["team"] != "core" || api.Ingress == nil || api.Ingress.Port != 8080 {
		t.Fatalf("api instance = %+v", api)
	}
	if api.Health != structs.HealthCritical || len(api.Checks) != 1 || api.Checks[0].Status != structs.CheckCritical {
		t.Errorf("api before its check ran: %s %+v, want critical", api.Health, api.Checks)
	}
	if m := reg.get(metricsID); m == nil || m.Port != 9100 || m.Health != structs.HealthPassing {
		t.Errorf("metrics instance (no checks, numeric port) = %+v", m)
	}

	ar.ServiceChecksChanged([]checks.Status{{ID: "api/health", Service: "api", Name: "health", Status: structs.CheckPassing}})
	if api := reg.get(apiID); api.Health != structs.HealthPassing {
		t.Errorf("api after a passing check: %s", api.Health)
	}
	ar.ServiceChecksChanged([]checks.Status{{ID: "api/health", Service: "api", Name: "health", Status: structs.CheckWarning}})
	if api := reg.get(apiID); api.Health != structs.HealthCritical {
		t.Errorf("api after a warning: %s", api.Health)
	}

	// Told to stop: out of the registry at once, and for good.
	ar.services.allocUpdated("", true)
	if len(reg.regs) != 0 {
		t.Fatalf("instances left after the stop: %v", reg.regs)
	}
	ar.services.allocUpdated(structs.AllocClientStatusRunning, false)
	ar.ServiceChecksChanged([]checks.Status{{Service: "api", Name: "health", Status: structs.CheckPassing}})
	if len(reg.regs) != 0 {
		t.Fatal("a stopped allocation registered again")
	}
}
