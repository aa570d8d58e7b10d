package fsm

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// FuzzApply feeds arbitrary entries to an FSM that already holds some
// state. Apply must return (an error or the index), never panic, and never
// catch a panic of its own (a PanicError is a bug).
func FuzzApply(f *testing.F) {
	job := statetest.Job("web")
	alloc := statetest.Alloc("a1", job, 0, "n1", "e1")
	seeds := []struct {
		typ MessageType
		req any
	}{
		{JobRegister, &JobRegisterRequest{Job: job, Eval: statetest.Eval("e1", job)}},
		{JobDeregister, &JobDeregisterRequest{Namespace: "default", JobID: "web", Purge: true}},
		{EvalUpdate, &EvalUpdateRequest{Evals: []*structs.Evaluation{statetest.Eval("e2", job)}}},
		{AllocClientUpdate, &AllocClientUpdateRequest{Allocs: []*structs.Allocation{{ID: "a1", ClientStatus: "running",
			TaskStates: statetest.TaskStates("running", time.Unix(1, 0))}}}},
		{ApplyPlanResults, &ApplyPlanResultsRequest{Job: job, AllocsUpdated: []*structs.Allocation{alloc},
			AllocsStopped: []*structs.Allocation{{ID: "a1"}}, EvalID: "e1"}},
		{NodeRegister, &NodeRegisterRequest{Node: statetest.Node("n1")}},
		{NodeUpdateStatus, &NodeUpdateStatusRequest{NodeID: "n1", Status: "down", UpdatedAt: 5}},
		{EvalDelete, &EvalDeleteRequest{Evals: []string{"e1"}, Allocs: []string{"a1"}}},
		{NodeUpdateDrain, &NodeUpdateDrainRequest{NodeID: "n1", Status: "draining", UpdatedAt: time.Unix(1, 0),
			DrainStrategy: &structs.DrainStrategy{DrainSpec: structs.DrainSpec{Deadline: time.Minute}}}},
		{NodeUpdateEligibility, &NodeUpdateEligibilityRequest{NodeID: "n1", Eligibility: "ineligible"}},
		{NodeDeregister, &NodeDeregisterRequest{NodeID: "n1"}},
	}
	for _, s := range seeds {
		data, err := Encode(s.typ, s.req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte{255, '{', '}'})
	f.Add([]byte{byte(JobRegister), 'n', 'u', 'l', 'l'})
	f.Add([]byte{byte(ApplyPlanResults), '{', '"', 'A', 'l', 'l', 'o', 'c', 's', 'U', 'p', 'd', 'a', 't', 'e', 'd', '"', ':', '[', '{', '}', ']', '}'})

	f.Fuzz(func(t *testing.T, data []byte) {
		fsm := New(nil)
		for i, s := range seeds[:6] { // a job, an eval, a node and an alloc to act on
			entry, _ := Encode(s.typ, s.req)
			fsm.Apply(&raft.Log{Index: uint64(i + 1), Data: entry})
		}
		switch got := fsm.Apply(&raft.Log{Index: 100, Data: data}).(type) {
		case uint64:
			if got != 100 {
				t.Fatalf("Apply returned index %d", got)
			}
		case error:
			var perr *PanicError
			if errors.As(got, &perr) {
				t.Fatalf("panic while applying %q: %v\n%s", data, perr.Value, perr.Stack)
			}
		default:
			t.Fatalf("Apply returned %T", got)
		}
	})
}

// FuzzRestore feeds arbitrary snapshot streams to Restore: it must fail
// cleanly or succeed, never panic.
func FuzzRestore(f *testing.F) {
	seed := New(nil)
	job := statetest.Job("web")
	node, _ := Encode(NodeRegister, &NodeRegisterRequest{Node: statetest.Node("n1")})
	reg, _ := Encode(JobRegister, &JobRegisterRequest{Job: job, Eval: statetest.Eval("e1", job)})
	seed.Apply(&raft.Log{Index: 1, Data: node})
	seed.Apply(&raft.Log{Index: 2, Data: reg})
	snap, err := seed.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		f.Fatal(err)
	}
	f.Add(sink.Bytes())
	f.Add([]byte(`{"Format":"drover-fsm-snapshot","Version":1}` + "\n" + `{"Kind":"Alloc","Value":{"ID":"a"}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		_ = New(nil).Restore(io.NopCloser(bytes.NewReader(data)))
	})
}
