package state

import (
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestJobVersionsKeepsTheLastSix(t *testing.T) {
	s := newStore(t)
	for i := range 8 {
		job := statetest.Job("web")
		job.TaskGroups[0].Count = i + 1 // a new version each time
		must(t, s.UpsertJob(uint64(10+i), job))
	}
	// Registering the same spec again makes no new version.
	same := statetest.Job("web")
	same.TaskGroups[0].Count = 8
	must(t, s.UpsertJob(30, same))

	versions, err := s.JobVersions(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if len(versions) != JobTrackedVersions {
		t.Fatalf("%d versions kept, want %d", len(versions), JobTrackedVersions)
	}
	for i, v := range versions {
		if want := uint64(7 - i); v.Version != want || v.TaskGroups[0].Count != int(want)+1 {
			t.Errorf("versions[%d] = version %d count %d, want version %d", i, v.Version, v.TaskGroups[0].Count, want)
		}
	}
	v3, err := s.JobByIDAndVersion(nil, structs.DefaultNamespace, "web", 3)
	must(t, err)
	if v3 == nil || v3.TaskGroups[0].Count != 4 || v3.JobModifyIndex != 13 {
		t.Fatalf("version 3 = %+v", v3)
	}
	if old, _ := s.JobByIDAndVersion(nil, structs.DefaultNamespace, "web", 1); old != nil {
		t.Error("version 1 was kept")
	}
	// Copies: changing what was read changes nothing stored.
	v3.TaskGroups[0].Count = 99
	again, _ := s.JobByIDAndVersion(nil, structs.DefaultNamespace, "web", 3)
	if again.TaskGroups[0].Count != 4 {
		t.Error("a read version shares memory with the store")
	}

	must(t, s.DeleteJob(40, structs.DefaultNamespace, "web"))
	versions, err = s.JobVersions(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if len(versions) != 0 {
		t.Errorf("%d versions left after purge", len(versions))
	}
}

func TestSetJobStability(t *testing.T) {
	s := newStore(t)
	job := statetest.Job("web")
	must(t, s.UpsertJob(10, job))
	changed := statetest.Job("web")
	changed.TaskGroups[0].Count = 5
	must(t, s.UpsertJob(11, changed))

	must(t, s.SetJobStability(12, structs.DefaultNamespace, "web", 0, true))
	v0, _ := s.JobByIDAndVersion(nil, structs.DefaultNamespace, "web", 0)
	current := mustJob(t, s, "web")
	if !v0.Stable || current.Stable || current.Version != 1 {
		t.Fatalf("v0 stable %v, current stable %v version %d", v0.Stable, current.Stable, current.Version)
	}
	must(t, s.SetJobStability(13, structs.DefaultNamespace, "web", 1, true))
	if current := mustJob(t, s, "web"); !current.Stable || current.Version != 1 {
		t.Errorf("current = stable %v version %d", current.Stable, current.Version)
	}
	if err := s.SetJobStability(14, structs.DefaultNamespace, "web", 7, true); err == nil {
		t.Error("an unknown version was marked")
	}
}
