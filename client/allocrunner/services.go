package allocrunner

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drover-project/drover/client/checks"
	"github.com/drover-project/drover/client/taskenv"
	"github.com/drover-project/drover/structs"
)

// ServiceRegistry is where an allocation's service instances go: the
// client's catalog, which spreads them to every node and reports them to
// the servers (client/services.go implements it).
type ServiceRegistry interface {
	// RegisterServices adds or updates instances (their health included).
	RegisterServices(regs []*structs.ServiceRegistration)
	// DeregisterServices removes instances by ID.
	DeregisterServices(ids []string)
}

// services keeps an allocation's service instances in the registry: they
// are registered while the allocation runs, deregistered as soon as it is
// told to stop (before any shutdown delay, so traffic drains first) or
// ends. An instance without checks is healthy while it runs; one with
// checks is healthy while every check passes, as ServiceChecksChanged
// reports them.
type services struct {
	registry ServiceRegistry
	alloc    *structs.Allocation
	node     *structs.Node
	hostIP   string

	mu sync.Mutex
	// running is whether the instances are registered.
	running bool
	// stopped is set once they were deregistered for good.
	stopped bool
	// checks are the last check statuses, by service name.
	checks map[string][]checks.Status
}

func newServices(registry ServiceRegistry, alloc *structs.Allocation, node *structs.Node, hostIP string) *services {
	if registry == nil || node == nil {
		return nil
	}
	return &services{registry: registry, alloc: alloc, node: node, hostIP: hostIP, checks: map[string][]checks.Status{}}
}

// ServiceChecksChanged takes the allocation's check statuses (every
// check, after thresholds), as client/checks' Watcher hands them to its
// OnChange, and updates the instances' health. The allocation's health
// code calls it; it is safe from any goroutine.
func (ar *AllocRunner) ServiceChecksChanged(statuses []checks.Status) {
	s := ar.services
	if s == nil {
		return
	}
	// The registry is called under the lock, so that a stop and a late
	// check result cannot reach it in the wrong order.
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.checks)
	for _, st := range statuses {
		s.checks[st.Service] = append(s.checks[st.Service], st)
	}
	if s.running {
		s.registry.RegisterServices(s.registrationsLocked())
	}
}

// allocUpdated follows the allocation's client status (from report) and
// desired status (from Update).
func (s *services) allocUpdated(status string, serverTerminal bool) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
	case serverTerminal || (status != structs.AllocClientStatusRunning && status != structs.AllocClientStatusPending):
		if ids := s.stopLocked(); len(ids) > 0 {
			s.registry.DeregisterServices(ids)
		}
	case status == structs.AllocClientStatusRunning && !s.running:
		s.running = true
		if regs := s.registrationsLocked(); len(regs) > 0 {
			s.registry.RegisterServices(regs)
		}
	}
}

// stopLocked marks the instances gone for good and returns the IDs to
// deregister (none when they were not registered).
func (s *services) stopLocked() []string {
	var ids []string
	if s.running {
		ids = s.idsLocked()
	}
	s.stopped, s.running = true, false
	return ids
}

// definitions lists the allocation's services, each with the task it
// belongs to ("" for the group's).
func (s *services) definitions() []serviceDef {
	tg := s.alloc.Job.LookupTaskGroup(s.alloc.TaskGroup)
	if tg == nil {
		return nil
	}
	var out []serviceDef
	for _, svc := range tg.Services {
		out = append(out, serviceDef{svc, ""})
	}
	for _, t := range tg.Tasks {
		for _, svc := range t.Services {
			out = append(out, serviceDef{svc, t.Name})
		}
	}
	return out
}

type serviceDef struct {
	svc  *structs.Service
	task string
}

func (s *services) idsLocked() []string {
	var ids []string
	for _, d := range s.definitions() {
		ids = append(ids, ServiceInstanceID(s.alloc.ID, s.alloc.TaskGroup, d.task, d.svc))
	}
	return ids
}

func (s *services) registrationsLocked() []*structs.ServiceRegistration {
	ports := taskenv.AllocPorts(s.alloc, s.hostIP)
	var out []*structs.ServiceRegistration
	for _, d := range s.definitions() {
		reg := &structs.ServiceRegistration{
			ID:          ServiceInstanceID(s.alloc.ID, s.alloc.TaskGroup, d.task, d.svc),
			ServiceName: d.svc.Name,
			Namespace:   s.alloc.Namespace,
			NodeID:      s.node.ID,
			Datacenter:  s.node.Datacenter,
			JobID:       s.alloc.JobID,
			AllocID:     s.alloc.ID,
			Tags:        slices.Clone(d.svc.Tags),
			Meta:        d.svc.Meta,
			Address:     s.hostIP,
		}
		if d.svc.Ingress != nil {
			in := *d.svc.Ingress
			reg.Ingress = &in
		}
		if d.svc.Address != "" {
			reg.Address = d.svc.Address
		}
		for _, p := range ports {
			if p.Label == d.svc.PortLabel {
				reg.Address, reg.Port = p.HostIP, p.HostPort
			}
		}
		if reg.Port == 0 && isPortNumber(d.svc.PortLabel) {
			fmt.Sscan(d.svc.PortLabel, &reg.Port)
		}
		reg.Health, reg.Checks = s.healthLocked(d.svc)
		out = append(out, reg)
	}
	return out
}

// healthLocked sums a service's checks: passing when it has none, or when
// every one of them passes (a warning takes the instance out of traffic).
// A check not yet reported has its initial_status (critical by default).
func (s *services) healthLocked(svc *structs.Service) (string, []structs.ServiceCheckStatus) {
	if len(svc.Checks) == 0 {
		return structs.HealthPassing, nil
	}
	statuses := s.checks[svc.Name]
	out := make([]structs.ServiceCheckStatus, 0, len(svc.Checks))
	for _, c := range svc.Checks {
		st := structs.ServiceCheckStatus{Name: c.Name, Status: structs.CheckCritical}
		if c.InitialStatus != "" {
			st.Status = c.InitialStatus
		}
		for _, got := range statuses {
			if got.Name == c.Name {
				st.Status = got.Status
			}
		}
		out = append(out, st)
	}
	health := structs.HealthPassing
	for _, st := range out {
		if st.Status != structs.CheckPassing {
			health = structs.HealthCritical
		}
	}
	return health, out
}

// ServiceInstanceID names an instance as Nomad does:
// _nomad-task-ALLOC-GROUP[-TASK]-SERVICE-PORT. It is stable across client
// restarts, so a re-attached allocation updates its instances in place.
func ServiceInstanceID(allocID, group, task string, svc *structs.Service) string {
	parts := []string{"_nomad-task", allocID, group}
	if task != "" {
		parts = append(parts, task)
	}
	parts = append(parts, svc.Name, svc.PortLabel)
	return strings.Join(parts, "-")
}

func isPortNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
