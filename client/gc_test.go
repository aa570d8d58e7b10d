package client

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/structs"
)

// Terminal allocations are collected oldest first, down to gc_max_allocs,
// and all of them once the disk is used above the threshold; a running
// allocation never is, and directories nothing knows are removed.
func TestGarbageCollectionPolicy(t *testing.T) {
	used := 10.0
	defer func(f func(string) (float64, error)) { diskUsedPercent = f }(diskUsedPercent)
	diskUsedPercent = func(string) (float64, error) { return used, nil }

	s := newFakeServers()
	dataDir := t.TempDir()
	c, err := New(&Config{DataDir: dataDir, NodeName: "gc", Clock: clocktest.NewFake(),
		GC: GCConfig{MaxAllocs: 3, DiskUsageThreshold: 80}},
		s, map[string]driver.Driver{mock.Name: mock.New()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	defer func() {
		if err := c.Shutdown(); err != nil {
			t.Error(err)
		}
		<-done
	}()

	s.setAlloc(testAlloc("web", structs.JobTypeService, "run_for=1h"))
	waitStatus(t, s, "web", structs.AllocClientStatusRunning)
	for _, id := range []string{"b1", "b2", "b3"} {
		s.setAlloc(testAlloc(id, structs.JobTypeBatch, "run_for=1ms"))
		waitStatus(t, s, id, structs.AllocClientStatusComplete)
	}
	allocDir := func(id string) bool {
		_, err := os.Stat(filepath.Join(dataDir, "alloc", id))
		return err == nil
	}
	if !allocDir("b1") {
		t.Fatal("no directory for b1")
	}
	stale := filepath.Join(dataDir, "alloc", "stale")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}

	// Four kept, at most three: the oldest terminal one goes, with the
	// directory nothing knows.
	total := 0
	waitFor(t, "b1 collected", func() bool {
		n, err := c.CollectGarbage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
		return !allocDir("b1")
	})
	if total != 2 || !allocDir("b2") || !allocDir("b3") {
		t.Fatalf("collected %d; b2 kept %v, b3 kept %v", total, allocDir("b2"), allocDir("b3"))
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("unknown directory kept: %v", err)
	}

	// The disk fills up: every terminal allocation goes, the running one stays.
	used = 95
	total = 0
	waitFor(t, "b2 and b3 collected", func() bool {
		n, err := c.CollectGarbage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
		return total >= 2
	})
	if allocDir("b2") || allocDir("b3") || !allocDir("web") {
		t.Errorf("after a full disk: b2 %v, b3 %v, web %v", allocDir("b2"), allocDir("b3"), allocDir("web"))
	}
}
