package client

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// The fake servers of client_test.go record service registrations here.
var fakeServiceRegs = struct {
	sync.Mutex
	m map[*fakeServers]map[string]*structs.ServiceRegistration
}{m: map[*fakeServers]map[string]*structs.ServiceRegistration{}}

func (f *fakeServers) UpsertServiceRegistrations(_ context.Context, regs []*structs.ServiceRegistration) error {
	fakeServiceRegs.Lock()
	defer fakeServiceRegs.Unlock()
	if fakeServiceRegs.m[f] == nil {
		fakeServiceRegs.m[f] = map[string]*structs.ServiceRegistration{}
	}
	for _, r := range regs {
		fakeServiceRegs.m[f][r.ID] = r.Copy()
	}
	return nil
}

func (f *fakeServers) DeleteServiceRegistrations(_ context.Context, ids []string) error {
	fakeServiceRegs.Lock()
	defer fakeServiceRegs.Unlock()
	for _, id := range ids {
		delete(fakeServiceRegs.m[f], id)
	}
	return nil
}

// flakyServers fails the first calls, then records.
type flakyServers struct {
	fakeServers
	mu    sync.Mutex
	fails int
	regs  map[string]*structs.ServiceRegistration
}

func (f *flakyServers) UpsertServiceRegistrations(_ context.Context, regs []*structs.ServiceRegistration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("no leader")
	}
	for _, r := range regs {
		f.regs[r.ID] = r.Copy()
	}
	return nil
}

func (f *flakyServers) DeleteServiceRegistrations(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("no leader")
	}
	for _, id := range ids {
		delete(f.regs, id)
	}
	return nil
}

func (f *flakyServers) snapshot() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for id, r := range f.regs {
		out[id] = r.Health
	}
	return out
}

func TestServiceReporterRetriesAndKeepsTheLatestChange(t *testing.T) {
	servers := &flakyServers{fails: 1, regs: map[string]*structs.ServiceRegistration{}}
	r, err := newServiceReporter(Config{Datacenter: "dc1"}, "node-1", servers, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); r.run(ctx) }()

	reg := &structs.ServiceRegistration{ID: "a", ServiceName: "api", AllocID: "alloc", NodeID: "node-1", Address: "10.0.0.1", Port: 8080, Health: structs.HealthCritical}
	r.RegisterServices([]*structs.ServiceRegistration{reg})
	healthy := reg.Copy()
	healthy.Health = structs.HealthPassing
	r.RegisterServices([]*structs.ServiceRegistration{healthy})
	r.RegisterServices([]*structs.ServiceRegistration{{ID: "b", ServiceName: "api", AllocID: "alloc2", NodeID: "node-1"}})

	// The local catalog has them at once; DNS answers from it.
	if got := r.catalog.Healthy("api", "", ""); len(got) != 2 {
		t.Fatalf("catalog has %d healthy instances, want 2", len(got))
	}
	waitUntil(t, func() bool {
		s := servers.snapshot()
		return len(s) == 2 && s["a"] == structs.HealthPassing
	})
	r.DeregisterServices([]string{"b"})
	waitUntil(t, func() bool { return len(servers.snapshot()) == 1 })
	if got := r.catalog.All("api"); len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("catalog after deregistration: %+v", got)
	}
	cancel()
	<-done
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
