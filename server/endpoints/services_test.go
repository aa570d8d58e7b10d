package endpoints

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// localServer is endpoints over a real FSM, applying entries in order as
// a lone leader would.
func localServer(t testing.TB) (*Endpoints, *fsm.FSM) {
	t.Helper()
	f := fsm.New(nil)
	var index uint64 = 100
	e := New(Deps{
		Apply: func(typ fsm.MessageType, req any) (uint64, error) {
			data, err := fsm.Encode(typ, req)
			if err != nil {
				return 0, err
			}
			index++
			if err, ok := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data}).(error); ok {
				return 0, err
			}
			return index, nil
		},
		State:    f.State,
		Leader:   func() string { return "self" },
		IsLeader: func() bool { return true },
		Region:   structs.DefaultRegion,
		Logger:   logging.Discard(),
	})
	return e, f
}

// withRunningAlloc stores node n1 and job web with allocation a1 running.
func withRunningAlloc(t *testing.T, f *fsm.FSM) {
	t.Helper()
	s := f.State()
	job := statetest.Job("web")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.UpsertNode(10, statetest.Node("n1")))
	must(s.UpsertJob(11, job))
	stored, err := s.JobByID(nil, structs.DefaultNamespace, "web")
	must(err)
	must(s.UpsertAllocs(12, []*structs.Allocation{statetest.Alloc("a1", stored, 0, "n1", "e1")}))
	must(s.UpdateAllocsFromClient(13, []*structs.Allocation{{ID: "a1", ClientStatus: structs.AllocClientStatusRunning,
		TaskStates: statetest.TaskStates(structs.TaskStateRunning, time.Unix(1700000000, 0)), ModifyTime: 1700000000}}))
}

func reg(id, name string, tags ...string) *structs.ServiceRegistration {
	return &structs.ServiceRegistration{ID: id, ServiceName: name, NodeID: "n1", JobID: "web", AllocID: "a1",
		Address: "10.0.0.1", Port: 20000, Tags: tags, Health: structs.HealthPassing}
}

func TestServiceEndpoints(t *testing.T) {
	e, f := localServer(t)
	withRunningAlloc(t, f)
	ctx := context.Background()
	if err := e.UpsertServiceRegistrations(ctx, []*structs.ServiceRegistration{
		reg("i1", "api", "v1"), reg("i2", "api", "v2", "v1"), reg("i3", "db"),
	}); err != nil {
		t.Fatal(err)
	}

	list, meta, err := e.ServiceList(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Index == 0 || len(list) != 1 || list[0].Namespace != structs.DefaultNamespace || len(list[0].Services) != 2 {
		t.Fatalf("list = %s (index %d)", statetest.Dump(list), meta.Index)
	}
	if api := list[0].Services[0]; api.ServiceName != "api" || strings.Join(api.Tags, ",") != "v1,v2" {
		t.Errorf("api = %+v, want tags v1,v2", api)
	}
	if db := list[0].Services[1]; db.ServiceName != "db" || db.Tags == nil || len(db.Tags) != 0 {
		t.Errorf("db = %+v, want an empty tag list", db)
	}
	if other, _, _ := e.ServiceList(ctx, &structs.QueryOptions{Namespace: "other"}); len(other) != 0 {
		t.Errorf("namespace other lists %s", statetest.Dump(other))
	}

	got, _, err := e.ServiceGet(ctx, nil, "api")
	if err != nil || len(got) != 2 || got[0].ID != "i1" || got[0].Namespace != structs.DefaultNamespace {
		t.Fatalf("get api = %s, %v", statetest.Dump(got), err)
	}
	if none, _, err := e.ServiceGet(ctx, nil, "nope"); err != nil || len(none) != 0 {
		t.Fatalf("get of an unknown service = %v, %v; want an empty list", none, err)
	}

	if _, err := e.ServiceDelete(ctx, "", "db", "i1"); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("deleting i1 as an instance of db: %v, want not found", err)
	}
	if _, err := e.ServiceDelete(ctx, "", "api", "i1"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteServiceRegistrations(ctx, []string{"i3"}); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := e.ServiceList(ctx, nil); len(list) != 1 || len(list[0].Services) != 1 {
		t.Errorf("after deletes: %s", statetest.Dump(list))
	}

	if err := e.UpsertServiceRegistrations(ctx, []*structs.ServiceRegistration{{ID: "x"}}); !errors.Is(err, structs.ErrBadRequest) {
		t.Errorf("an instance without a service name: %v, want a bad request", err)
	}
}

func TestIngressPortClashIsABadRequest(t *testing.T) {
	e, f := localServer(t)
	withIngress := func(id, service string, port int) *structs.Job {
		job := statetest.Job(id)
		job.TaskGroups[0].Services = []*structs.Service{{Name: service, PortLabel: "http",
			Ingress: &structs.ServiceIngress{Port: port}}}
		return job
	}
	if err := f.State().UpsertJob(10, withIngress("first", "api", 8080)); err != nil {
		t.Fatal(err)
	}
	err := e.checkIngressPorts(withIngress("second", "web", 8080))
	if !errors.Is(err, structs.ErrBadRequest) || !strings.Contains(err.Error(), `ingress port 8080 is already used by service "api" of job "first"`) {
		t.Errorf("clash: %v", err)
	}
	if err := e.checkIngressPorts(withIngress("first", "api", 8080)); err != nil {
		t.Errorf("a new version of the same job: %v", err)
	}
	if err := e.checkIngressPorts(withIngress("third", "web", 8081)); err != nil {
		t.Errorf("another port: %v", err)
	}
	two := withIngress("fourth", "a", 9000)
	two.TaskGroups[0].Services = append(two.TaskGroups[0].Services, &structs.Service{Name: "b", Ingress: &structs.ServiceIngress{Port: 9000}})
	if err := e.checkIngressPorts(two); !errors.Is(err, structs.ErrBadRequest) {
		t.Errorf("two services of one job on one port: %v", err)
	}
}
