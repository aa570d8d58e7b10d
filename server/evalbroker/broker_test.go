package evalbroker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func eval(id, job string, prio int, idx uint64) *structs.Evaluation {
	return &structs.Evaluation{ID: id, Namespace: "default", JobID: job, Priority: prio, CreateIndex: idx, Status: structs.EvalStatusPending}
}

func dequeue(t *testing.T, b *Broker) (*structs.Evaluation, string) {
	t.Helper()
	// Generous: a redelivery after a nack timeout needs the timer's
	// goroutine to run, which a loaded machine may delay.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, tok, err := b.Dequeue(ctx)
	if err != nil {
		t.Fatalf("dequeue: %v", err)
	}
	return e, tok
}

func TestBrokerOrdersByPriorityThenAge(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	b.Enqueue(eval("a", "j1", 50, 3), eval("b", "j2", 70, 5), eval("c", "j3", 50, 1))
	var got []string
	for range 3 {
		e, tok := dequeue(t, b)
		got = append(got, e.ID)
		if err := b.Ack(e.ID, tok); err != nil {
			t.Fatal(err)
		}
	}
	if want := "bca"; got[0]+got[1]+got[2] != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}

func TestBrokerSerializesOneJob(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	b.Enqueue(eval("a", "j", 50, 1), eval("b", "j", 50, 2))
	e, tok := dequeue(t, b)
	if e.ID != "a" {
		t.Fatalf("got %s", e.ID)
	}
	if s := b.Stats(); s.Ready != 0 || s.Pending != 1 {
		t.Fatalf("second eval of the job must wait: %+v", s)
	}
	b.Ack(e.ID, tok)
	if e, _ := dequeue(t, b); e.ID != "b" {
		t.Fatalf("got %s", e.ID)
	}
}

func TestBrokerNackRedeliversUntilLimit(t *testing.T) {
	var failed []string
	b := New(Config{DeliveryLimit: 2, OnFailed: func(e *structs.Evaluation) { failed = append(failed, e.ID) }})
	b.SetEnabled(true)
	b.Enqueue(eval("a", "j", 50, 1))
	e, tok := dequeue(t, b)
	if err := b.Nack(e.ID, "wrong"); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("nack with a wrong token: %v", err)
	}
	b.Nack(e.ID, tok)
	e, tok = dequeue(t, b)
	b.Nack(e.ID, tok)
	if len(failed) != 1 || failed[0] != "a" {
		t.Fatalf("failed = %v", failed)
	}
	if s := b.Stats(); s != (Stats{}) {
		t.Fatalf("broker not empty: %+v", s)
	}
}

func TestBrokerNackTimeoutRedelivers(t *testing.T) {
	b := New(Config{NackTimeout: 10 * time.Millisecond})
	b.SetEnabled(true)
	b.Enqueue(eval("a", "j", 50, 1))
	first, _ := dequeue(t, b)
	again, _ := dequeue(t, b) // arrives once the first delivery times out
	if first.ID != again.ID {
		t.Fatalf("redelivered %s, want %s", again.ID, first.ID)
	}
}

func TestBrokerDuplicateEnqueueIgnoredAndDisableFlushes(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	b.Enqueue(eval("a", "j", 50, 1), eval("a", "j", 50, 1))
	if s := b.Stats(); s.Ready != 1 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
	b.SetEnabled(false)
	b.SetEnabled(true)
	if s := b.Stats(); s != (Stats{}) {
		t.Fatalf("disable must flush: %+v", s)
	}
}

func TestBlockedUnblockRequeuesNewestPerJob(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	bl := NewBlocked(b)
	bl.SetEnabled(true)
	bl.Block(eval("old", "j", 50, 1))
	bl.Block(eval("new", "j", 50, 2))
	bl.Block(eval("other", "k", 50, 3))
	if bl.Len() != 2 {
		t.Fatalf("len %d", bl.Len())
	}
	bl.Unblock()
	seen := map[string]bool{}
	for range 2 {
		e, tok := dequeue(t, b)
		seen[e.ID] = true
		b.Ack(e.ID, tok)
	}
	if !seen["new"] || !seen["other"] || seen["old"] {
		t.Fatalf("unblocked %v", seen)
	}
}

// TestBlockedSinceACapacityChangeIsRetried: an evaluation planned before a
// node joined, and blocked only after that node's Unblock passed, goes back
// to the broker at once instead of waiting for a change that came already.
func TestBlockedSinceACapacityChangeIsRetried(t *testing.T) {
	b := New(Config{})
	b.SetEnabled(true)
	bl := NewBlocked(b)
	bl.SetEnabled(true)

	gen := bl.Generation()
	bl.BlockSince(eval("current", "j", 50, 1), gen)
	if bl.Len() != 1 {
		t.Fatalf("an evaluation planned on current capacity is not tracked: len %d", bl.Len())
	}
	bl.Unblock()
	e, tok := dequeue(t, b)
	b.Ack(e.ID, tok)

	stale := bl.Generation()
	bl.Unblock() // a node joins while the next evaluation is planned
	bl.BlockSince(eval("stale", "k", 50, 2), stale)
	if bl.Len() != 0 {
		t.Fatalf("an evaluation planned before a capacity change was tracked: len %d", bl.Len())
	}
	if e, tok := dequeue(t, b); e.ID != "stale" {
		t.Fatalf("dequeued %s, want the stale evaluation back", e.ID)
	} else {
		b.Ack(e.ID, tok)
	}
}
