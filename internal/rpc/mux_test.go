package rpc

import (
	"io"
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
