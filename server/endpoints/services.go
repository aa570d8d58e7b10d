package endpoints

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// UpsertServiceRegistrations records service instances a client reports
// (new ones, or a health change). Instances of allocations that already
// ended are dropped by the state store.
func (e *Endpoints) UpsertServiceRegistrations(ctx context.Context, regs []*structs.ServiceRegistration) error {
	args := &structs.ServiceRegistrationsArgs{Registrations: regs}
	if ok, err := e.forward(ctx, "UpsertServiceRegistrations", false, args, &struct{}{}); ok {
		return err
	}
	if len(regs) == 0 {
		return nil
	}
	for i, r := range regs {
		if r == nil || r.ID == "" || r.ServiceName == "" || r.AllocID == "" || r.NodeID == "" {
			return structs.BadRequest(fmt.Errorf("service registration %d needs an ID, a ServiceName, an AllocID and a NodeID", i))
		}
		if r.Namespace == "" {
			r.Namespace = structs.DefaultNamespace
		}
	}
	_, err := e.d.Apply(fsm.ServiceRegistrationUpsert, &fsm.ServiceRegistrationUpsertRequest{Registrations: regs})
	return err
}

// DeleteServiceRegistrations removes instances by ID (a client's
// deregistration, or an operator's DELETE).
func (e *Endpoints) DeleteServiceRegistrations(ctx context.Context, ids []string) error {
	args := &structs.ServiceDeregistrationArgs{IDs: ids}
	if ok, err := e.forward(ctx, "DeleteServiceRegistrations", false, args, &struct{}{}); ok {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := e.d.Apply(fsm.ServiceRegistrationDelete, &fsm.ServiceRegistrationDeleteRequest{IDs: ids})
	return err
}

// ServiceList lists the services of the query's namespace ("*" for every
// namespace) with the union of their instances' tags, as Nomad's
// GET /v1/services.
func (e *Endpoints) ServiceList(ctx context.Context, q *structs.QueryOptions) ([]*structs.ServiceRegistrationListStub, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.ServiceRegistrationListStub](ctx, e, "ServiceList", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	ns := namespaceOf(q)
	var out []*structs.ServiceRegistrationListStub
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		regs, err := s.ServiceRegistrations(ws)
		if err != nil {
			return 0, err
		}
		out = listServices(regs, ns)
		return tableIndex(s, state.TableServiceRegistrations)
	})
	return out, meta, err
}

// listServices groups instances by namespace then service name, sorted.
func listServices(regs []*structs.ServiceRegistration, ns string) []*structs.ServiceRegistrationListStub {
	tags := map[string]map[string][]string{} // namespace → service → tags
	for _, r := range regs {
		if ns != "*" && r.Namespace != ns {
			continue
		}
		if tags[r.Namespace] == nil {
			tags[r.Namespace] = map[string][]string{}
		}
		t := tags[r.Namespace][r.ServiceName]
		if t == nil {
			t = []string{}
		}
		for _, tag := range r.Tags {
			if !slices.Contains(t, tag) {
				t = append(t, tag)
			}
		}
		tags[r.Namespace][r.ServiceName] = t
	}
	out := []*structs.ServiceRegistrationListStub{}
	for namespace, services := range tags {
		stub := &structs.ServiceRegistrationListStub{Namespace: namespace}
		for name, t := range services {
			sort.Strings(t)
			stub.Services = append(stub.Services, &structs.ServiceRegistrationStub{ServiceName: name, Tags: t})
		}
		sort.Slice(stub.Services, func(i, j int) bool { return stub.Services[i].ServiceName < stub.Services[j].ServiceName })
		out = append(out, stub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

// ServiceGet returns the instances of a service in the query's namespace,
// healthy or not, by ID; an unknown service is an empty list, as Nomad's.
func (e *Endpoints) ServiceGet(ctx context.Context, q *structs.QueryOptions, name string) ([]*structs.ServiceRegistration, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.ServiceRegistration](ctx, e, "ServiceGet", ReadArgs{Query: q, ID: name}); ok {
		return out, meta, err
	}
	ns := namespaceOf(q)
	var out []*structs.ServiceRegistration
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		regs, err := s.ServiceRegistrationsByName(ws, ns, name)
		if err != nil {
			return 0, err
		}
		out = regs
		return tableIndex(s, state.TableServiceRegistrations)
	})
	return out, meta, err
}

// ServiceDeleteArgs names one instance of a service.
type ServiceDeleteArgs struct {
	Namespace   string
	ServiceName string
	ID          string
}

// ServiceDelete removes one instance of a service (DELETE
// /v1/service/:name/:id). Its client registers it again if it still runs.
func (e *Endpoints) ServiceDelete(ctx context.Context, namespace, name, id string) (uint64, error) {
	a := &ServiceDeleteArgs{Namespace: namespace, ServiceName: name, ID: id}
	var reply IndexedReply[struct{}]
	if ok, err := e.forward(ctx, "ServiceDelete", false, a, &reply); ok {
		return reply.Index, err
	}
	if a.Namespace == "" {
		a.Namespace = structs.DefaultNamespace
	}
	reg, err := e.d.State().ServiceRegistrationByID(nil, a.ID)
	if err != nil {
		return 0, err
	}
	if reg == nil || reg.ServiceName != a.ServiceName || reg.Namespace != a.Namespace {
		return 0, structs.NotFound(fmt.Errorf("service %q has no instance %q in namespace %q", a.ServiceName, a.ID, a.Namespace))
	}
	return e.d.Apply(fsm.ServiceRegistrationDelete, &fsm.ServiceRegistrationDeleteRequest{IDs: []string{a.ID}})
}

// checkIngressPorts refuses a job whose services declare an ingress port
// that a service of another job already uses, or that two of its own
// services share: every client listens on every ingress port, so a port
// can balance only one service.
func (e *Endpoints) checkIngressPorts(job *structs.Job) error {
	mine := map[int]string{}
	for _, svc := range jobServices(job) {
		if svc.Ingress == nil {
			continue
		}
		if other, ok := mine[svc.Ingress.Port]; ok && other != svc.Name {
			return structs.BadRequest(fmt.Errorf("service %q: ingress port %d is also used by service %q of this job", svc.Name, svc.Ingress.Port, other))
		}
		mine[svc.Ingress.Port] = svc.Name
	}
	if len(mine) == 0 {
		return nil
	}
	jobs, err := e.d.State().Jobs(nil)
	if err != nil {
		return err
	}
	for _, other := range jobs {
		if other.Stop || (other.ID == job.ID && other.Namespace == job.Namespace) {
			continue
		}
		for _, svc := range jobServices(other) {
			if svc.Ingress == nil {
				continue
			}
			if name, clash := mine[svc.Ingress.Port]; clash {
				return structs.BadRequest(fmt.Errorf("service %q: ingress port %d is already used by service %q of job %q (namespace %q)",
					name, svc.Ingress.Port, svc.Name, other.ID, other.Namespace))
			}
		}
	}
	return nil
}

// jobServices lists the services of a job's groups and tasks.
func jobServices(job *structs.Job) []*structs.Service {
	var out []*structs.Service
	for _, tg := range job.TaskGroups {
		out = append(out, tg.Services...)
		for _, t := range tg.Tasks {
			out = append(out, t.Services...)
		}
	}
	return out
}
