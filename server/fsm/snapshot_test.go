package fsm

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
)

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, canceled bool
}

func (s *memSink) ID() string    { return "test" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.canceled = true; return nil }

func persist(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	must(t, err)
	defer snap.Release()
	var sink memSink
	must(t, snap.Persist(&sink))
	if !sink.closed || sink.canceled {
		t.Fatalf("sink closed %v canceled %v", sink.closed, sink.canceled)
	}
	return sink.Bytes()
}

// dumpState renders every table, the index table included.
func dumpState(t *testing.T, s *state.StateStore) string {
	t.Helper()
	var parts []any
	for _, read := range []func() (any, error){
		func() (any, error) { return s.Jobs(nil) },
		func() (any, error) { return s.JobSummaries(nil) },
		func() (any, error) { return s.Evals(nil) },
		func() (any, error) { return s.Allocs(nil) },
		func() (any, error) { return s.Nodes(nil) },
		func() (any, error) { return s.Indexes() },
	} {
		v, err := read()
		must(t, err)
		parts = append(parts, v)
	}
	return statetest.Dump(parts)
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	src := populate(t)
	data := persist(t, src)

	dst := New(nil)
	must(t, dst.Restore(io.NopCloser(bytes.NewReader(data))))
	if a, b := dumpState(t, src.State()), dumpState(t, dst.State()); a != b {
		t.Fatalf("restored state differs:\nsource:   %s\nrestored: %s", a, b)
	}
	if n, _ := dst.State().NodeByID(nil, "n1"); n == nil || n.SecretID != "secret-n1" {
		t.Fatal("the node's secret did not survive the snapshot")
	}
	// A snapshot of the restored state is the same stream.
	if again := persist(t, dst); !bytes.Equal(again, data) {
		t.Fatal("snapshot of the restored state differs from the original snapshot")
	}

	// Applying continues where the snapshot left off.
	job := statetest.Job("later")
	applyOK(t, dst, 19, JobRegister, &JobRegisterRequest{Job: job})
	if latest, _ := dst.State().LatestIndex(); latest != 19 {
		t.Fatalf("latest index after restore and apply = %d", latest)
	}
}

func TestRestoreReplacesAndAbandonsTheOldStore(t *testing.T) {
	src := populate(t)
	data := persist(t, src)

	f := New(nil)
	applyOK(t, f, 3, NodeRegister, &NodeRegisterRequest{Node: statetest.Node("only-before")})
	old := f.State()
	must(t, f.Restore(io.NopCloser(bytes.NewReader(data))))
	select {
	case <-old.AbandonCh():
	default:
		t.Fatal("old store's AbandonCh is open after restore")
	}
	if f.State() == old {
		t.Fatal("state not replaced")
	}
	if n, _ := f.State().NodeByID(nil, "only-before"); n != nil {
		t.Fatal("restore merged into the old state instead of replacing it")
	}
}

func TestRestoreRejectsBadSnapshotsAndKeepsTheState(t *testing.T) {
	good := string(persist(t, populate(t)))
	header, rest, _ := strings.Cut(good, "\n")
	cases := map[string]string{
		"empty":         "",
		"not a header":  `{"Kind":"Job"}` + "\n",
		"other format":  `{"Format":"other","Version":1}` + "\n",
		"newer version": `{"Format":"drover-fsm-snapshot","Version":99}` + "\n" + rest,
		"unknown kind":  header + "\n" + `{"Kind":"Deployment","Value":{}}` + "\n",
		"null value":    header + "\n" + `{"Kind":"Job","Value":null}` + "\n",
		"truncated":     good[:len(good)/2],
		"null element":  header + "\n" + `{"Kind":"Node","Value":{"ID":"n","Drivers":{"docker":null}}}` + "\n",
	}
	for name, data := range cases {
		f := New(nil)
		applyOK(t, f, 3, NodeRegister, &NodeRegisterRequest{Node: statetest.Node("kept")})
		old := f.State()
		if err := f.Restore(io.NopCloser(strings.NewReader(data))); err == nil {
			t.Errorf("%s: restore succeeded", name)
			continue
		}
		if f.State() != old {
			t.Errorf("%s: a failed restore replaced the state", name)
		}
		if n, _ := f.State().NodeByID(nil, "kept"); n == nil {
			t.Errorf("%s: a failed restore lost the state", name)
		}
	}
}

type failingSink struct{ memSink }

func (s *failingSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPersistCancelsTheSinkOnError(t *testing.T) {
	f := populate(t)
	snap, err := f.Snapshot()
	must(t, err)
	var sink failingSink
	if err := snap.Persist(&sink); err == nil {
		t.Fatal("Persist succeeded on a failing sink")
	}
	if !sink.canceled || sink.closed {
		t.Fatalf("sink canceled %v closed %v, want canceled only", sink.canceled, sink.closed)
	}
}

func TestSnapshotIsTakenWhenAsked(t *testing.T) {
	f := populate(t)
	snap, err := f.Snapshot()
	must(t, err)
	applyOK(t, f, 30, NodeRegister, &NodeRegisterRequest{Node: statetest.Node("later")})
	var sink memSink
	must(t, snap.Persist(&sink))
	restored := New(nil)
	must(t, restored.Restore(io.NopCloser(&sink.Buffer)))
	if n, _ := restored.State().NodeByID(nil, "later"); n != nil {
		t.Fatal("the snapshot includes a write made after it was taken")
	}
	if n, _ := restored.State().NodeByID(nil, "n1"); n == nil {
		t.Fatal("the snapshot lost a node")
	}
}
