package fsm

import (
	"bytes"
	"io"
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// TestSchedulingStateSurvivesSnapshots: job versions and the scheduler
// configuration are written by their messages and come back from a
// snapshot.
func TestSchedulingStateSurvivesSnapshots(t *testing.T) {
	f := New(nil)
	job := statetest.Job("web")
	applyOK(t, f, 5, JobRegister, &JobRegisterRequest{Job: job})
	changed := job.Copy()
	changed.TaskGroups[0].Count = 7
	applyOK(t, f, 6, JobRegister, &JobRegisterRequest{Job: changed})
	cfg := &structs.SchedulerConfiguration{SchedulerAlgorithm: structs.SchedulerAlgorithmSpread, MemoryOversubscriptionEnabled: true}
	applyOK(t, f, 7, SchedulerConfigSet, &SchedulerConfigSetRequest{Config: cfg})
	// A check-and-set on a stale index is refused.
	if err := applyErr(t, f, 8, SchedulerConfigSet, &SchedulerConfigSetRequest{Config: cfg, CAS: true, Index: 3}); err == nil {
		t.Error("a stale check-and-set was applied")
	}

	restored := New(nil)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(persist(t, f)))); err != nil {
		t.Fatal(err)
	}
	versions, err := restored.State().JobVersions(nil, job.Namespace, job.ID)
	must(t, err)
	if len(versions) != 2 || versions[0].Version != 1 || versions[0].TaskGroups[0].Count != 7 {
		t.Errorf("restored versions = %d (%+v)", len(versions), versions)
	}
	got, err := restored.State().SchedulerConfig(nil)
	must(t, err)
	if got.SchedulerAlgorithm != structs.SchedulerAlgorithmSpread || !got.MemoryOversubscriptionEnabled || got.ModifyIndex != 7 {
		t.Errorf("restored configuration = %+v", got)
	}
	if dumpState(t, f.State()) != dumpState(t, restored.State()) {
		t.Error("restored state differs")
	}
}
