package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/structs"
)

// startServer serves h on a fresh loopback mux.
func startServer(t *testing.T, h Handler) (*Server, string) {
	t.Helper()
	m, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(m, h, logging.Discard())
	t.Cleanup(func() { stop(s) })
	return s, m.Addr().String()
}

// stop closes the server and its port, as a dying peer does.
func stop(s *Server) {
	s.Close()
	s.mux.Close()
}

func newPool(t *testing.T) *Pool {
	p := NewPool()
	t.Cleanup(func() { p.Close() })
	return p
}

// echo answers every call with its arguments decoded as a structs.Job.
var echo = HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
	var job structs.Job
	if err := args.Decode(&job); err != nil {
		return nil, err
	}
	return &job, nil
})

func TestCallRoundTripsJobWithNestedConfig(t *testing.T) {
	_, addr := startServer(t, echo)
	job := &structs.Job{
		ID: "web", Name: "web", Region: "global", Namespace: "default", Type: "service", Priority: 50,
		TaskGroups: []*structs.TaskGroup{{
			Name: "g",
			Tasks: []*structs.Task{{
				Name:   "t",
				Driver: "docker",
				Config: map[string]any{
					"image":   "drover-demo:v1",
					"ports":   []any{"http", "admin"},
					"args":    []any{"-x", 1.5, true},
					"labels":  map[string]any{"a": "b", "n": 3.0},
					"mount":   []any{map[string]any{"type": "bind", "readonly": false}},
					"cpu_pct": 42.0,
				},
			}},
		}},
	}
	var got structs.Job
	if err := newPool(t).Call(context.Background(), addr, "Echo", job, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(job.TaskGroups[0].Tasks[0].Config, got.TaskGroups[0].Tasks[0].Config) {
		t.Fatalf("config changed on the way:\n sent %#v\n got  %#v", job.TaskGroups[0].Tasks[0].Config, got.TaskGroups[0].Tasks[0].Config)
	}
	if got.ID != "web" || got.Priority != 50 {
		t.Fatalf("job changed on the way: %+v", got)
	}
}

func TestRemoteErrorsKeepTheirClass(t *testing.T) {
	_, addr := startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		switch method {
		case "NotFound":
			return nil, structs.NotFound(errors.New(`job "x" not found`))
		case "Bad":
			return nil, structs.BadRequest(errors.New("missing job"))
		case "NoLeader":
			return nil, fmt.Errorf("%w: election under way", structs.ErrNoLeader)
		}
		return nil, errors.New("plain failure")
	}))
	p := newPool(t)
	for method, want := range map[string]error{
		"NotFound": structs.ErrNotFound, "Bad": structs.ErrBadRequest, "NoLeader": structs.ErrNoLeader,
	} {
		err := p.Call(context.Background(), addr, method, nil, nil)
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want an error of class %v", method, err, want)
		}
	}
	err := p.Call(context.Background(), addr, "Other", nil, nil)
	if err == nil || err.Error() != "plain failure" {
		t.Errorf("Other: got %v, want the remote message unchanged", err)
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			t.Errorf("Other: a plain error came back as %v", k.err)
		}
	}
}

func TestCancelReachesTheHandler(t *testing.T) {
	_, cancelBlocked := startBlockingServer(t)
	cancelBlocked(newPool(t))
}

// startBlockingServer starts a server that answers "Quick" at once and
// holds any other call until its context ends. It returns the address and
// cancelBlocked, which makes a "Block" call through p, cancels it once the
// handler runs, and fails the test unless the call returns
// context.Canceled and the handler's context ends.
func startBlockingServer(t *testing.T) (addr string, cancelBlocked func(p *Pool)) {
	t.Helper()
	handlerDone := make(chan error, 1)
	started := make(chan struct{})
	_, addr = startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		if method == "Quick" {
			return "ok", nil
		}
		close(started)
		<-ctx.Done()
		handlerDone <- ctx.Err()
		return nil, ctx.Err()
	}))
	return addr, func(p *Pool) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		callDone := make(chan error, 1)
		go func() { callDone <- p.Call(ctx, addr, "Block", nil, nil) }()
		<-started
		cancel()
		if err := <-callDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("call: got %v, want context.Canceled", err)
		}
		select {
		case <-handlerDone:
		case <-time.After(10 * time.Second):
			t.Fatal("the handler's context did not end after the caller cancelled")
		}
	}
}

func TestPoolReusesOneSessionPerAddress(t *testing.T) {
	var calls atomic.Int32
	_, addr := startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		calls.Add(1)
		return "ok", nil
	}))
	p := newPool(t)
	for range 20 {
		var s string
		if err := p.Call(context.Background(), addr, "M", nil, &s); err != nil || s != "ok" {
			t.Fatalf("call: %q, %v", s, err)
		}
	}
	p.mu.Lock()
	n := len(p.sessions)
	p.mu.Unlock()
	if n != 1 || calls.Load() != 20 {
		t.Fatalf("%d sessions after %d calls; want 1 session and 20 calls", n, calls.Load())
	}
}

func TestPoolRedialsAfterThePeerRestarts(t *testing.T) {
	srv, addr := startServer(t, echo)
	p := newPool(t)
	if err := p.Call(context.Background(), addr, "M", &structs.Job{ID: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	stop(srv)
	// The same address again, served anew.
	m, err := Listen(addr, nil, logging.Discard())
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", addr, err)
	}
	s2 := Serve(m, echo, logging.Discard())
	defer stop(s2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := p.Call(context.Background(), addr, "M", &structs.Job{ID: "b"}, nil)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call succeeded after the restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLostConnectionMidCallIsOutcomeUnknown(t *testing.T) {
	started := make(chan struct{})
	srv, addr := startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	done := make(chan error, 1)
	go func() { done <- newPool(t).Call(context.Background(), addr, "Write", nil, nil) }()
	<-started
	stop(srv)
	select {
	case err := <-done:
		if !errors.Is(err, ErrNoReply) || !errors.Is(err, structs.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want ErrNoReply (outcome unknown)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call hung after its connection was closed")
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add([]byte{0x82, 0xa6, 'M', 'e', 't', 'h', 'o', 'd', 0xa1, 'x', 0xa4, 'A', 'r', 'g', 's', 0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req request
		_ = readMsg(bytes.NewReader(b), &req)
	})
}

func TestCallToNobodyIsNotSent(t *testing.T) {
	m, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	addr := m.Addr().String()
	m.Close() // nothing listens there now
	err = newPool(t).Call(context.Background(), addr, "M", nil, nil)
	if !errors.Is(err, ErrNotSent) || errors.Is(err, structs.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want ErrNotSent (and not an unknown outcome)", err)
	}
}
