package server

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// neverFuture is a raft future that raft never answers, as one queued in
// raft's apply channel just before it shut down.
type neverFuture struct{ answer chan error }

func (f neverFuture) Error() error { return <-f.answer }

func TestAwaitBarrierGivesUpOnShutdown(t *testing.T) {
	f := neverFuture{answer: make(chan error)}
	defer close(f.answer)
	shutdown := make(chan struct{})
	close(shutdown)
	err := awaitBarrier(f, time.Hour, time.Hour, shutdown, func() bool { return true })
	if !errors.Is(err, errServerShutdown) {
		t.Fatalf("got %v, want errServerShutdown", err)
	}
}

func TestAwaitBarrierGivesUpWhenLeadershipIsLost(t *testing.T) {
	f := neverFuture{answer: make(chan error)}
	defer close(f.answer)
	var checks atomic.Int32
	isLeader := func() bool { return checks.Add(1) < 3 }
	err := awaitBarrier(f, time.Hour, time.Millisecond, make(chan struct{}), isLeader)
	if !errors.Is(err, errLostLeadership) {
		t.Fatalf("got %v, want errLostLeadership", err)
	}
}

func TestAwaitBarrierTimesOut(t *testing.T) {
	f := neverFuture{answer: make(chan error)}
	defer close(f.answer)
	err := awaitBarrier(f, time.Millisecond, time.Hour, make(chan struct{}), func() bool { return true })
	if err == nil || errors.Is(err, errServerShutdown) || errors.Is(err, errLostLeadership) {
		t.Fatalf("got %v, want a timeout", err)
	}
}

func TestAwaitBarrierReturnsRaftsAnswer(t *testing.T) {
	f := neverFuture{answer: make(chan error, 1)}
	f.answer <- nil
	if err := awaitBarrier(f, time.Hour, time.Hour, make(chan struct{}), func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("raft is shut down")
	f = neverFuture{answer: make(chan error, 1)}
	f.answer <- boom
	if err := awaitBarrier(f, time.Hour, time.Hour, make(chan struct{}), func() bool { return true }); !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
}
