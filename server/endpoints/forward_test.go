package endpoints

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/structs"
)

// fakeCluster is what forward sees of the cluster: who leads, and the
// calls sent to the leader.
type fakeCluster struct {
	leader   atomic.Value // string
	isLeader atomic.Bool
	calls    atomic.Int32
	answer   func(addr string) error
}

func (c *fakeCluster) endpoints(wait time.Duration) *Endpoints {
	c.leader.Store("")
	return New(Deps{
		Leader:     func() string { return c.leader.Load().(string) },
		IsLeader:   c.isLeader.Load,
		LeaderWait: wait,
		Logger:     logging.Discard(),
		Forward: func(ctx context.Context, addr, method string, args, reply any) error {
			c.calls.Add(1)
			if method != forwardedPrefix+"JobGet" {
				return fmt.Errorf("unexpected method %q", method)
			}
			return c.answer(addr)
		},
	})
}

func TestForwardWithoutLeaderGivesUpAfterTheWait(t *testing.T) {
	c := &fakeCluster{}
	e := c.endpoints(100 * time.Millisecond)
	start := time.Now()
	ok, err := e.forward(context.Background(), "JobGet", false, nil, nil)
	if !ok || !errors.Is(err, structs.ErrNoLeader) {
		t.Fatalf("got %v, %v; want a forwarded ErrNoLeader", ok, err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("gave up after %s, before the leader wait", waited)
	}
}

func TestForwardWaitsForALeaderToBeElected(t *testing.T) {
	c := &fakeCluster{answer: func(addr string) error { return nil }}
	e := c.endpoints(time.Minute)
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.leader.Store("10.0.0.1:4747")
	}()
	if ok, err := e.forward(context.Background(), "JobGet", false, nil, nil); !ok || err != nil {
		t.Fatalf("got %v, %v; want the call forwarded once a leader appeared", ok, err)
	}
}

func TestForwardRetriesWhenTheLeaderSteppedDown(t *testing.T) {
	c := &fakeCluster{}
	c.answer = func(addr string) error {
		if addr == "old:4747" {
			c.leader.Store("new:4747")
			return fmt.Errorf("%w: stepped down", structs.ErrNoLeader)
		}
		return nil
	}
	e := c.endpoints(time.Minute)
	c.leader.Store("old:4747")
	if ok, err := e.forward(context.Background(), "JobGet", false, nil, nil); !ok || err != nil {
		t.Fatalf("got %v, %v; want success from the new leader", ok, err)
	}
	if c.calls.Load() != 2 {
		t.Fatalf("%d calls, want 2 (old leader, then new)", c.calls.Load())
	}
}

func TestForwardDoesNotRetryAnUnknownOutcome(t *testing.T) {
	c := &fakeCluster{answer: func(string) error { return fmt.Errorf("%w: cut", structs.ErrOutcomeUnknown) }}
	e := c.endpoints(time.Minute)
	c.leader.Store("l:4747")
	if _, err := e.forward(context.Background(), "JobGet", false, nil, nil); !errors.Is(err, structs.ErrOutcomeUnknown) || c.calls.Load() != 1 {
		t.Fatalf("got %v after %d calls; want one call and an unknown outcome", err, c.calls.Load())
	}
}

func TestForwardAnswersLocally(t *testing.T) {
	c := &fakeCluster{}
	e := c.endpoints(time.Minute)
	c.leader.Store("l:4747")
	if ok, _ := e.forward(context.Background(), "JobGet", true, nil, nil); ok {
		t.Error("a stale read was forwarded")
	}
	c.isLeader.Store(true)
	if ok, _ := e.forward(context.Background(), "JobGet", false, nil, nil); ok {
		t.Error("the leader forwarded a request")
	}
	c.isLeader.Store(false)
	ok, err := e.forward(withForwarded(context.Background()), "JobGet", false, nil, nil)
	if !ok || !errors.Is(err, structs.ErrNoLeader) || c.calls.Load() != 0 {
		t.Errorf("a forwarded request at a follower: %v, %v, %d calls; want ErrNoLeader and no call", ok, err, c.calls.Load())
	}
}

func TestForwardRetriesWhenTheLeaderCannotBeReached(t *testing.T) {
	c := &fakeCluster{}
	c.answer = func(addr string) error {
		if addr == "dead:4747" {
			c.leader.Store("new:4747")
			return fmt.Errorf("%w: connection refused", rpc.ErrNotSent)
		}
		return nil
	}
	e := c.endpoints(time.Minute)
	c.leader.Store("dead:4747")
	if ok, err := e.forward(context.Background(), "JobGet", false, nil, nil); !ok || err != nil || c.calls.Load() != 2 {
		t.Fatalf("got %v, %v after %d calls; want success from the new leader on the second call", ok, err, c.calls.Load())
	}
}
