package server

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/rpc"
)

// TestRaftTransportDoesNotPipeline: raft v1.7.3's pipelined replication
// can deadlock after a follower rejects an append, stopping replication to
// that follower and hanging raft.Shutdown (server.go, MaxRPCsInFlight).
func TestRaftTransportDoesNotPipeline(t *testing.T) {
	s := testServer(t, t.TempDir())
	defer s.Shutdown()
	p, err := s.transport.AppendEntriesPipeline("peer", "127.0.0.1:1")
	if p != nil {
		p.Close()
	}
	if !errors.Is(err, raft.ErrPipelineReplicationNotSupported) {
		t.Fatalf("AppendEntriesPipeline: %v; want pipelining off", err)
	}
}

// TestShutdownEndsCallsToAPeerThatStoppedAnswering: a leader replicating to
// a peer that takes its requests and never answers (as across a partition)
// has a call open that raft's transport gives up on only after 10 s, and
// raft.Shutdown waits for it. Shutdown closes the connections after its
// grace instead.
func TestShutdownEndsCallsToAPeerThatStoppedAnswering(t *testing.T) {
	s := testServer(t, t.TempDir())
	defer s.Shutdown()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The peer reads the protocol byte and a request, then nothing more.
	called := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			go func() {
				b := make([]byte, 2)
				if n, _ := c.Read(b); n > 0 && b[0] == rpc.ProtoRaft {
					called <- c
				}
			}()
		}
	}()
	f := s.raft.AddNonvoter("silent", raft.ServerAddress(silent.Addr().String()), 0, 0)
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	select {
	case conn = <-called:
		defer conn.Close()
	case <-time.After(time.Minute):
		t.Fatal("the leader never called the silent peer")
	}

	// Without closing the connections, Shutdown returns only when the
	// transport's 10 s timeout ends the call; with it, after the grace.
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("shutdown hangs")
	}
	if took := time.Since(start); took >= 10*time.Second {
		t.Fatalf("shutdown took %s: the call to the silent peer was not ended", took)
	}
}
