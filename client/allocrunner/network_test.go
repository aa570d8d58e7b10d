package allocrunner

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/client/state"
	"github.com/drover-project/drover/structs"
)

// netDriver is the mock driver with a group network that records its life.
type netDriver struct {
	*mock.Driver
	mu        sync.Mutex
	created   []*driver.GroupNetworkSpec
	destroyed []string
}

func (d *netDriver) CreateGroupNetwork(_ context.Context, spec *driver.GroupNetworkSpec) (*driver.GroupNetwork, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.created = append(d.created, spec)
	return &driver.GroupNetwork{ContainerID: "infra-" + spec.AllocID}, nil
}

func (d *netDriver) DestroyGroupNetwork(_ context.Context, allocID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.destroyed = append(d.destroyed, allocID)
	return nil
}

func runWith(t *testing.T, alloc *structs.Allocation, d driver.Driver, dataDir string, prevDone func(string) <-chan struct{}) *AllocRunner {
	t.Helper()
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ar, err := New(Config{
		Alloc: alloc, Node: &structs.Node{ID: "node-1"}, HostIP: "127.0.0.1",
		Drivers: map[string]driver.Driver{mock.Name: d}, DataDir: dataDir, Store: db,
		Clock: clocktest.NewFake(), PreviousDone: prevDone,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ar.Run(context.Background())
	return ar
}

// TestBridgeGroupNetwork: the group network is made before the tasks,
// every task joins it and gets the allocation directories, and the
// network goes once the tasks are dead.
func TestBridgeGroupNetwork(t *testing.T) {
	alloc := testAlloc(structs.JobTypeBatch, mockTask("a", "run_for=10ms"), mockTask("b", "run_for=10ms"))
	tg := alloc.Job.TaskGroups[0]
	tg.Networks = []*structs.NetworkResource{{Mode: "bridge", DNS: &structs.DNSConfig{Servers: []string{"10.0.0.53"}}}}
	d := &netDriver{Driver: mock.New()}
	dataDir := t.TempDir()
	ar := runWith(t, alloc, d, dataDir, nil)
	<-ar.Done()

	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.created) != 1 || d.created[0].Mode != "bridge" || d.created[0].DNS == nil || d.created[0].DNS.Servers[0] != "10.0.0.53" {
		t.Fatalf("created %+v", d.created)
	}
	if len(d.destroyed) != 1 || d.destroyed[0] != alloc.ID {
		t.Errorf("destroyed %v", d.destroyed)
	}
	started := d.Started()
	if len(started) != 2 {
		t.Fatalf("%d tasks started", len(started))
	}
	for _, cfg := range started {
		if cfg.NetworkMode != "container:infra-"+alloc.ID || cfg.DNS != nil {
			t.Errorf("task %s: network mode %q, dns %+v", cfg.TaskName, cfg.NetworkMode, cfg.DNS)
		}
		targets := map[string]string{}
		for _, m := range cfg.Mounts {
			targets[m.Target] = m.Source
		}
		base := filepath.Join(dataDir, "alloc", alloc.ID)
		want := map[string]string{
			"/alloc":   filepath.Join(base, "alloc"),
			"/local":   filepath.Join(base, cfg.TaskName, "local"),
			"/secrets": filepath.Join(base, cfg.TaskName, "secrets"),
		}
		for target, src := range want {
			if targets[target] != src {
				t.Errorf("task %s: %s mounted from %q, want %q", cfg.TaskName, target, targets[target], src)
			}
		}
	}
}

// TestHostModeHasNoGroupNetwork: in host mode each task has its own
// network, and the group's dns block goes to every task.
func TestHostModeHasNoGroupNetwork(t *testing.T) {
	alloc := testAlloc(structs.JobTypeBatch, mockTask("a", "run_for=1ms"))
	alloc.Job.TaskGroups[0].Networks = []*structs.NetworkResource{{Mode: "host", DNS: &structs.DNSConfig{Servers: []string{"10.0.0.53"}}}}
	d := &netDriver{Driver: mock.New()}
	ar := runWith(t, alloc, d, t.TempDir(), nil)
	<-ar.Done()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.created) != 0 || len(d.destroyed) != 0 {
		t.Errorf("created %v destroyed %v", d.created, d.destroyed)
	}
	if cfg := d.Started()[0]; cfg.NetworkMode != "" || cfg.DNS == nil || cfg.DNS.Servers[0] != "10.0.0.53" {
		t.Errorf("network mode %q, dns %+v", cfg.NetworkMode, cfg.DNS)
	}
}

// TestStickyDiskTakesOverPreviousData: a replacement with a sticky disk
// waits for its predecessor, then moves its shared data (not its logs)
// and each task's local/ into its own directory.
func TestStickyDiskTakesOverPreviousData(t *testing.T) {
	dataDir := t.TempDir()
	prev := filepath.Join(dataDir, "alloc", "alloc-0")
	for path, content := range map[string]string{
		"alloc/data/db":         "rows",
		"alloc/logs/a.stdout.0": "old log",
		"a/local/cache":         "warm",
	} {
		p := filepath.Join(prev, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	alloc := testAlloc(structs.JobTypeBatch, mockTask("a", "run_for=1ms"))
	alloc.PreviousAllocation = "alloc-0"
	alloc.Job.TaskGroups[0].EphemeralDisk = &structs.EphemeralDisk{Sticky: true}
	prevDone := make(chan struct{})
	asked := make(chan string, 1)
	ar := runWith(t, alloc, mock.New(), dataDir, func(id string) <-chan struct{} {
		asked <- id
		return prevDone
	})
	if id := <-asked; id != "alloc-0" {
		t.Fatalf("waited for %q", id)
	}
	if _, err := os.Stat(filepath.Join(prev, "alloc", "data", "db")); err != nil {
		t.Fatalf("data moved before the predecessor stopped: %v", err)
	}
	close(prevDone)
	<-ar.Done()
	cur := filepath.Join(dataDir, "alloc", alloc.ID)
	for path, want := range map[string]string{"alloc/data/db": "rows", "a/local/cache": "warm"} {
		if b, err := os.ReadFile(filepath.Join(cur, path)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", path, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(prev, "alloc", "logs", "a.stdout.0")); err != nil {
		t.Errorf("the predecessor's logs moved: %v", err)
	}
}
