package fsm

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func applyOK(t *testing.T, f *FSM, index uint64, typ MessageType, req any) {
	t.Helper()
	if err := applyErr(t, f, index, typ, req); err != nil {
		t.Fatalf("apply %s at %d: %v", typ, index, err)
	}
}

func applyErr(t *testing.T, f *FSM, index uint64, typ MessageType, req any) error {
	t.Helper()
	data, err := Encode(typ, req)
	if err != nil {
		t.Fatal(err)
	}
	switch got := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data}).(type) {
	case error:
		return got
	case uint64:
		if got != index {
			t.Fatalf("Apply returned index %d, want %d", got, index)
		}
		return nil
	default:
		t.Fatalf("Apply returned %T %v", got, got)
		return nil
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// populate applies one entry of every type and returns the FSM.
func populate(t *testing.T) *FSM {
	t.Helper()
	f := New(nil)
	job := statetest.Job("web")
	job.TaskGroups[0].Tasks[0].Config["mounts"] = []any{map[string]any{"type": "bind", "readonly": true, "count": 2}}
	applyOK(t, f, 10, NodeRegister, &NodeRegisterRequest{Node: statetest.Node("n1")})
	applyOK(t, f, 11, JobRegister, &JobRegisterRequest{Job: job, Eval: statetest.Eval("e1", job)})
	stored, err := f.State().JobByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	place := statetest.Alloc("a1", stored, 0, "n1", "e1")
	place.Job = nil
	applyOK(t, f, 12, ApplyPlanResults, &ApplyPlanResultsRequest{Job: stored, AllocsUpdated: []*structs.Allocation{place}, EvalID: "e1"})
	done, err := f.State().EvalByID(nil, "e1") // a worker updates what it read
	must(t, err)
	done.Status = structs.EvalStatusComplete
	applyOK(t, f, 13, EvalUpdate, &EvalUpdateRequest{Evals: []*structs.Evaluation{done}})
	applyOK(t, f, 14, AllocClientUpdate, &AllocClientUpdateRequest{Allocs: []*structs.Allocation{{
		ID: "a1", ClientStatus: structs.AllocClientStatusRunning,
		TaskStates: statetest.TaskStates(structs.TaskStateRunning, time.Unix(1700000000, 5)), ModifyTime: 1700000000,
	}}})
	applyOK(t, f, 15, NodeUpdateStatus, &NodeUpdateStatusRequest{NodeID: "n1", Status: structs.NodeStatusDown, UpdatedAt: 1700000001})
	api := statetest.Job("api")
	applyOK(t, f, 16, JobRegister, &JobRegisterRequest{Job: api, Eval: statetest.Eval("e2", api)})
	applyOK(t, f, 17, JobDeregister, &JobDeregisterRequest{Namespace: structs.DefaultNamespace, JobID: "api", Purge: false})
	applyOK(t, f, 18, EvalDelete, &EvalDeleteRequest{Evals: []string{"e2"}})
	return f
}

func TestApplyEachMessageType(t *testing.T) {
	f := populate(t)
	s := f.State()

	node, err := s.NodeByID(nil, "n1")
	must(t, err)
	if node == nil || node.SecretID != "secret-n1" || node.Status != structs.NodeStatusDown ||
		node.StatusUpdatedAt != 1700000001 || node.CreateIndex != 10 || node.ModifyIndex != 15 {
		t.Fatalf("node = %+v", node)
	}

	job, err := s.JobByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if job.Status != structs.JobStatusRunning || job.CreateIndex != 11 {
		t.Fatalf("job = status %q create %d", job.Status, job.CreateIndex)
	}
	// The config reads back as JSON-shaped values.
	mounts := job.TaskGroups[0].Tasks[0].Config["mounts"].([]any)
	if m := mounts[0].(map[string]any); m["count"] != float64(2) || m["readonly"] != true {
		t.Fatalf("config after the log = %#v", mounts)
	}

	e1, err := s.EvalByID(nil, "e1")
	must(t, err)
	if e1.Status != structs.EvalStatusComplete || e1.JobModifyIndex != 11 || e1.CreateIndex != 11 || e1.ModifyIndex != 13 {
		t.Fatalf("eval e1 = %+v", e1)
	}

	alloc, err := s.AllocByID(nil, "a1")
	must(t, err)
	if alloc.ClientStatus != structs.AllocClientStatusRunning || alloc.Job == nil || alloc.CreateIndex != 12 || alloc.ModifyIndex != 14 {
		t.Fatalf("alloc = %+v", alloc)
	}
	sum, err := s.JobSummaryByID(nil, structs.DefaultNamespace, "web")
	must(t, err)
	if sum.Summary["web"].Running != 1 {
		t.Fatalf("summary = %+v", sum.Summary)
	}

	api, err := s.JobByID(nil, structs.DefaultNamespace, "api")
	must(t, err)
	if !api.Stop || api.Version != 1 || api.Status != structs.JobStatusDead {
		t.Fatalf("deregistered job = stop %v version %d status %q", api.Stop, api.Version, api.Status)
	}
	if e2, _ := s.EvalByID(nil, "e2"); e2 != nil {
		t.Fatal("EvalDelete left the eval")
	}
	latest, err := s.LatestIndex()
	must(t, err)
	if latest != 18 {
		t.Fatalf("latest index = %d, want 18", latest)
	}
}

func TestPurgeDeletesTheJob(t *testing.T) {
	f := New(nil)
	job := statetest.Job("web")
	applyOK(t, f, 10, JobRegister, &JobRegisterRequest{Job: job})
	eval := statetest.Eval("e-purge", job)
	applyOK(t, f, 11, JobDeregister, &JobDeregisterRequest{Namespace: structs.DefaultNamespace, JobID: "web", Purge: true, Eval: eval})
	if j, _ := f.State().JobByID(nil, structs.DefaultNamespace, "web"); j != nil {
		t.Fatal("purged job still there")
	}
	if e, _ := f.State().EvalByID(nil, "e-purge"); e == nil {
		t.Fatal("purge eval not committed")
	}
	err := applyErr(t, f, 12, JobDeregister, &JobDeregisterRequest{Namespace: structs.DefaultNamespace, JobID: "web"})
	if !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("deregister of a missing job: %v, want not found", err)
	}
}

func TestApplyRejectsWhatItCannotRead(t *testing.T) {
	f := New(nil)
	cases := map[string][]byte{
		"empty":        nil,
		"unknown type": append([]byte{200}, `{}`...),
		"bad json":     append([]byte{byte(JobRegister)}, `{"Job":`...),
		"null element": append([]byte{byte(EvalUpdate)}, `{"Evals":[null]}`...),
		"null map value": append([]byte{byte(ApplyPlanResults)},
			`{"AllocsUpdated":[{"ID":"a","AllocatedResources":{"Tasks":{"x":null}}}]}`...),
		"no job": append([]byte{byte(JobRegister)}, `{}`...),
	}
	for name, data := range cases {
		got := f.Apply(&raft.Log{Index: 5, Data: data})
		err, ok := got.(error)
		if !ok {
			t.Errorf("%s: Apply returned %v, want an error", name, got)
			continue
		}
		var perr *PanicError
		if errors.As(err, &perr) {
			t.Errorf("%s: panicked: %v\n%s", name, perr.Value, perr.Stack)
		}
	}
	if err, _ := f.Apply(&raft.Log{Index: 6, Data: []byte{99}}).(error); !errors.Is(err, ErrUnknownMessageType) {
		t.Errorf("unknown type error = %v", err)
	}
	if latest, _ := f.State().LatestIndex(); latest != 0 {
		t.Fatalf("rejected entries changed the state (latest index %d)", latest)
	}
}

func TestEvalSinkGetsPendingEvalsAfterCommit(t *testing.T) {
	f := New(nil)
	var got [][]*structs.Evaluation
	f.SetEvalSink(func(evals []*structs.Evaluation) {
		// Called after the commit: the state already has the evaluation.
		for _, e := range evals {
			if stored, _ := f.State().EvalByID(nil, e.ID); stored == nil {
				t.Errorf("eval %s handed over before commit", e.ID)
			}
		}
		got = append(got, evals)
	})
	job := statetest.Job("web")
	applyOK(t, f, 10, JobRegister, &JobRegisterRequest{Job: job, Eval: statetest.Eval("e1", job)})
	done := statetest.Eval("e2", job)
	done.Status = structs.EvalStatusComplete
	blocked := statetest.Eval("e3", job)
	blocked.Status = structs.EvalStatusBlocked
	applyOK(t, f, 11, EvalUpdate, &EvalUpdateRequest{Evals: []*structs.Evaluation{done, blocked, statetest.Eval("e4", job)}})
	applyOK(t, f, 12, ApplyPlanResults, &ApplyPlanResultsRequest{Evals: []*structs.Evaluation{statetest.Eval("e5", job)}})
	// A failed apply hands over nothing.
	_ = applyErr(t, f, 13, JobDeregister, &JobDeregisterRequest{Namespace: "default", JobID: "missing", Eval: statetest.Eval("e6", job)})

	var ids []string
	for _, batch := range got {
		for _, e := range batch {
			ids = append(ids, e.ID)
		}
	}
	if len(got) != 3 || len(ids) != 3 || ids[0] != "e1" || ids[1] != "e4" || ids[2] != "e5" {
		t.Fatalf("sink got %v in %d calls, want e1, e4, e5 in 3", ids, len(got))
	}
	if got[0][0].CreateIndex != 10 || got[0][0].JobModifyIndex != 10 {
		t.Fatalf("sink got the eval without its indexes: %+v", got[0][0])
	}

	f.SetEvalSink(nil)
	applyOK(t, f, 14, EvalUpdate, &EvalUpdateRequest{Evals: []*structs.Evaluation{statetest.Eval("e7", job)}})
	if len(got) != 3 {
		t.Fatal("a cleared sink was called")
	}
}

func TestMessageTypesAreStable(t *testing.T) {
	// These numbers are in logs on disk: they must never change.
	want := map[MessageType]uint8{
		JobRegister: 0, JobDeregister: 1, EvalUpdate: 2, AllocClientUpdate: 3,
		ApplyPlanResults: 4, NodeRegister: 5, NodeUpdateStatus: 6, EvalDelete: 7,
		AllocUpdateDesiredTransition: 8, SchedulerConfigSet: 9, JobStability: 10,
	}
	// Node drain and eligibility (node_drain.go).
	want[NodeUpdateDrain], want[NodeUpdateEligibility], want[NodeDeregister] = 11, 12, 13
	// Deployments (deployments.go).
	want[DeploymentStatusUpdate], want[DeploymentPromote] = 15, 16
	// Service registrations (services.go).
	want[ServiceRegistrationUpsert], want[ServiceRegistrationDelete] = 20, 21
	for typ, n := range want {
		if uint8(typ) != n {
			t.Errorf("%s = %d, want %d", typ, uint8(typ), n)
		}
	}
	if len(messageTypeNames) != len(want) {
		t.Errorf("%d named types, %d checked here: add the new one to this test", len(messageTypeNames), len(want))
	}
}
