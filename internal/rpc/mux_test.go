package rpc

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
	"github.com/hashicorp/raft"
)

func TestMuxRoutesRaftByFirstByte(t *testing.T) {
	m, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	layer := m.RaftLayer()

	done := make(chan string, 1)
	go func() {
		c, err := layer.Accept()
		if err != nil {
			done <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		b := make([]byte, 5)
		if _, err := io.ReadFull(c, b); err != nil {
			done <- "read: " + err.Error()
			return
		}
		done <- string(b)
	}()

	c, err := layer.Dial(raft.ServerAddress(m.Addr().String()), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got != "hello" {
			t.Fatalf("raft side read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("raft connection never arrived")
	}
}

func TestMuxRefusesUnadvertisableAddress(t *testing.T) {
	if _, err := Listen("0.0.0.0:0", nil, logging.Discard()); err == nil {
		t.Fatal("want an error for an unspecified advertise address")
	}
}

// TestMuxCloseClosesDialedRaftConnections: raft's calls wait up to its
// transport timeout on a peer that stopped answering; closing the mux must
// end them at once.
func TestMuxCloseClosesDialedRaftConnections(t *testing.T) {
	m, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	// The peer takes the connection and never answers.
	peer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go func() {
		for {
			c, err := peer.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	layer := m.RaftLayer()
	dialed, err := layer.Dial(raft.ServerAddress(peer.Addr().String()), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only keeps a broken Close from hanging the test.
	dialed.SetReadDeadline(time.Now().Add(time.Minute))
	readErr := make(chan error, 1)
	go func() {
		_, err := dialed.Read(make([]byte, 1))
		readErr <- err
	}()
	m.Close()
	err = <-readErr
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("read on a raft connection after Close: %v; want it closed", err)
	}
	if _, err := layer.Dial(raft.ServerAddress(peer.Addr().String()), 5*time.Second); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}
