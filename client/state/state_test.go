package state

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

func TestRoundTripAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	alloc := &structs.Allocation{ID: "a1", JobID: "job", Job: &structs.Job{ID: "job", TaskGroups: []*structs.TaskGroup{{
		Name: "g", Tasks: []*structs.Task{{Name: "t", Config: map[string]any{"args": []any{"x"}}}},
	}}}}
	handle := &driver.TaskHandle{Driver: "mock", ContainerID: "c1", StartedAt: time.Unix(100, 0).UTC(),
		Config: &driver.TaskConfig{TaskName: "t", Env: map[string]string{"A": "b"}}}
	ts := &structs.TaskState{State: structs.TaskStateRunning, Restarts: 2, Events: []*structs.TaskEvent{{Type: structs.TaskStarted}}}
	must(t, db.PutAllocation(alloc))
	must(t, db.PutTaskHandle("a1", "t", handle))
	must(t, db.PutTaskState("a1", "t", ts))
	must(t, db.PutTaskState("a1", "other", ts))
	must(t, db.PutTaskHandle("a1", "other", nil))
	must(t, db.Close())

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	allocs, err := db.Allocations()
	if err != nil || len(allocs) != 1 || allocs[0].Job.TaskGroups[0].Tasks[0].Config["args"].([]any)[0] != "x" {
		t.Fatalf("allocations = %+v, %v", allocs, err)
	}
	tasks, err := db.Tasks("a1")
	if err != nil {
		t.Fatal(err)
	}
	got := tasks["t"]
	if got.Handle.ContainerID != "c1" || got.Handle.Config.Env["A"] != "b" || !got.Handle.StartedAt.Equal(handle.StartedAt) ||
		got.State.Restarts != 2 || got.State.Events[0].Type != structs.TaskStarted {
		t.Errorf("task t = %+v / %+v", got.Handle, got.State)
	}
	if tasks["other"].Handle != nil || tasks["other"].State == nil {
		t.Errorf("task other = %+v", tasks["other"])
	}

	must(t, db.DeleteAllocation("a1"))
	must(t, db.DeleteAllocation("a1")) // idempotent
	if allocs, _ := db.Allocations(); len(allocs) != 0 {
		t.Errorf("deleted alloc still listed")
	}
	if tasks, _ := db.Tasks("a1"); len(tasks) != 0 {
		t.Errorf("deleted alloc still has tasks")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
