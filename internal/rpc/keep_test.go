package rpc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/structs"
)

// idleCount is how many answered streams p keeps for addr.
func idleCount(p *Pool, addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle[addr])
}

func TestPoolSendsSequentialCallsOnOneStream(t *testing.T) {
	srv, addr := startServer(t, echo)
	p := newPool(t)
	job := &structs.Job{ID: "web", TaskGroups: []*structs.TaskGroup{{Name: "g"}}}
	for i := range 20 {
		var got structs.Job
		if err := p.Call(context.Background(), addr, "Echo", job, &got); err != nil || got.ID != "web" {
			t.Fatalf("call %d: %+v, %v", i, got, err)
		}
	}
	// Errors keep the stream too: the answer was read whole.
	if err := p.Call(context.Background(), addr, "Echo", "not a job", nil); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("bad arguments: got %v, want a bad request", err)
	}
	if n := idleCount(p, addr); n != 1 {
		t.Fatalf("%d idle streams after sequential calls, want 1", n)
	}
	srv.mu.Lock()
	var streams int
	for sess := range srv.sessions {
		streams += sess.NumStreams()
	}
	srv.mu.Unlock()
	if streams != 1 {
		t.Fatalf("the server has %d open streams, want the 1 kept", streams)
	}
}

func TestCancelOnAKeptStreamReachesTheHandler(t *testing.T) {
	addr, cancelBlocked := startBlockingServer(t)
	p := newPool(t)
	if err := p.Call(context.Background(), addr, "Quick", nil, nil); err != nil {
		t.Fatal(err)
	}
	if idleCount(p, addr) != 1 {
		t.Fatal("the first call's stream was not kept")
	}
	cancelBlocked(p)
	if n := idleCount(p, addr); n != 0 {
		t.Fatalf("%d idle streams after a cancelled call, want 0: its stream is closed", n)
	}
	if err := p.Call(context.Background(), addr, "Quick", nil, nil); err != nil {
		t.Fatalf("a call after the cancelled one: %v", err)
	}
}

func TestPoolDropsKeptStreamsOfADeadSession(t *testing.T) {
	srv, addr := startServer(t, echo)
	p := newPool(t)
	if err := p.Call(context.Background(), addr, "Echo", &structs.Job{ID: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	stop(srv)
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		closed := p.sessions[addr] == nil || p.sessions[addr].IsClosed()
		p.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pool's session outlived the server")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Nothing listens: the kept stream is not used, the call is not sent.
	if err := p.Call(context.Background(), addr, "Echo", &structs.Job{ID: "b"}, nil); !errors.Is(err, ErrNotSent) {
		t.Fatalf("got %v, want ErrNotSent", err)
	}
	if n := idleCount(p, addr); n != 0 {
		t.Fatalf("%d idle streams of a dead session", n)
	}
}

// TestPoolOpensAStreamPerCallToAServerThatDoesNotKeep talks to a server
// as they were before streams were kept: one call per stream, then close.
func TestPoolOpensAStreamPerCallToAServerThatDoesNotKeep(t *testing.T) {
	m, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	go func() {
		for {
			select {
			case conn := <-m.rpc:
				sess, err := yamux.Server(conn, yamuxConfig())
				if err != nil {
					return
				}
				go func() {
					for {
						stream, err := sess.AcceptStream()
						if err != nil {
							return
						}
						go func() {
							defer stream.Close()
							var req request
							if readMsg(stream, &req) == nil {
								_ = writeMsg(stream, &response{Reply: []byte(`"ok"`)})
							}
						}()
					}
				}()
			case <-m.closed:
				return
			}
		}
	}()
	p := newPool(t)
	for i := range 5 {
		var got string
		if err := p.Call(context.Background(), m.Addr().String(), "M", nil, &got); err != nil || got != "ok" {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if n := idleCount(p, m.Addr().String()); n != 0 {
		t.Fatalf("%d idle streams kept for a server that closes them", n)
	}
}
