package nodes

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
)

// fakeClock is a Clock that moves only when the test calls advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	at time.Duration
	f  func()
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now + d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, w := range t.c.timers {
		if w == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// due moves the clock by d and returns the functions of the timers that
// fired, without running them: the test decides when they run.
func (c *fakeClock) due(d time.Duration) []func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	var fired []func()
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at > c.now {
			kept = append(kept, t)
			continue
		}
		fired = append(fired, t.f)
	}
	c.timers = kept
	return fired
}

// advance moves the clock by d and runs the timers that fire.
func (c *fakeClock) advance(d time.Duration) {
	for _, f := range c.due(d) {
		f()
	}
}

func fakeHeartbeats(ttl time.Duration, onExpire func(string)) (*Heartbeats, *fakeClock) {
	c := &fakeClock{}
	noJitter := func(time.Duration) time.Duration { return 0 }
	// MaxPerSecond high enough that the few nodes here never scale the TTL.
	p := HeartbeatPolicy{MinTTL: ttl, Grace: ttl, MaxPerSecond: 1e6, Jitter: noJitter, Clock: c}
	return NewHeartbeatsWithPolicy(p, onExpire, logging.Discard()), c
}

func TestHeartbeatExpiresSilentNodeOnly(t *testing.T) {
	var expired []string
	// TTL 20ms plus 20ms grace: "a" is down 40ms after Enable.
	h, clk := fakeHeartbeats(20*time.Millisecond, func(id string) { expired = append(expired, id) })
	h.Enable([]string{"a", "b"})
	// Keep "b" alive, beating every 5ms, while "a" goes silent.
	for step := 1; step <= 40; step++ {
		clk.advance(5 * time.Millisecond)
		h.Reset("b")
		switch {
		case step < 8 && len(expired) != 0:
			t.Fatalf("expired %v after %v, before TTL + grace", expired, time.Duration(step)*5*time.Millisecond)
		case step == 8 && !slices.Equal(expired, []string{"a"}):
			t.Fatalf("after TTL + grace expired %v, want [a]", expired)
		}
	}
	if !slices.Equal(expired, []string{"a"}) {
		t.Fatalf("expired %v, want only the silent node a", expired)
	}
	if h.Tracked() != 1 {
		t.Fatalf("tracked %d, want 1", h.Tracked())
	}
	// Once "b" stops beating it goes too.
	clk.advance(40 * time.Millisecond)
	if !slices.Equal(expired, []string{"a", "b"}) || h.Tracked() != 0 {
		t.Fatalf("expired %v, tracked %d after b went silent", expired, h.Tracked())
	}
}

// TestHeartbeatBeatRacingTheTimer: a node's timer fires, but its beat takes
// the lock before the expiry does. The beat was accepted and a new TTL
// handed out, so the node must not be declared down.
func TestHeartbeatBeatRacingTheTimer(t *testing.T) {
	var expired []string
	h, clk := fakeHeartbeats(20*time.Millisecond, func(id string) { expired = append(expired, id) })
	h.Enable([]string{"a"})
	fired := clk.due(40 * time.Millisecond)
	if len(fired) != 1 {
		t.Fatalf("%d timers fired, want 1", len(fired))
	}
	h.Reset("a") // the beat wins the race for the lock
	fired[0]()   // then the stale expiry runs
	if len(expired) != 0 || h.Tracked() != 1 {
		t.Fatalf("a node that beat in time: expired %v, tracked %d", expired, h.Tracked())
	}
	clk.advance(39 * time.Millisecond)
	if len(expired) != 0 {
		t.Fatalf("expired %v before the renewed TTL + grace", expired)
	}
	clk.advance(time.Millisecond)
	if !slices.Equal(expired, []string{"a"}) || h.Tracked() != 0 {
		t.Fatalf("after the renewed TTL + grace: expired %v, tracked %d", expired, h.Tracked())
	}
	// Removed and added again: an old timer's expiry is stale too.
	h.Reset("a")
	fired = clk.due(40 * time.Millisecond)
	h.Remove("a")
	h.Reset("a")
	for _, f := range fired {
		f()
	}
	if len(expired) != 1 || h.Tracked() != 1 {
		t.Fatalf("a stale timer after remove and re-add: expired %v, tracked %d", expired, h.Tracked())
	}
}

// TestHeartbeatRealClock keeps one check on the system clock: a silent
// node is declared down. The deadline is generous; nothing here beats.
func TestHeartbeatRealClock(t *testing.T) {
	expired := make(chan string, 1)
	h := NewHeartbeats(time.Millisecond, func(id string) { expired <- id }, logging.Discard())
	h.Enable([]string{"a"})
	select {
	case id := <-expired:
		if id != "a" || h.Tracked() != 0 {
			t.Fatalf("expired %s, tracked %d", id, h.Tracked())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("silent node never expired")
	}
}

func TestHeartbeatDisabledNeverExpires(t *testing.T) {
	h := NewHeartbeats(time.Millisecond, func(id string) { t.Errorf("expired %s", id) }, logging.Discard())
	if ttl := h.Reset("a"); ttl != time.Millisecond {
		t.Fatalf("ttl %v", ttl)
	}
	if h.Tracked() != 0 {
		t.Fatal("a disabled tracker must not start timers")
	}
	h.Enable([]string{"a"})
	h.Disable()
	if h.Tracked() != 0 {
		t.Fatal("disable must stop timers")
	}
}

func TestHeartbeatTTLScalesWithClusterSize(t *testing.T) {
	p := HeartbeatPolicy{MinTTL: 10 * time.Second, MaxPerSecond: 50}
	for _, c := range []struct {
		nodes int
		want  time.Duration
	}{{0, 10 * time.Second}, {100, 10 * time.Second}, {500, 10 * time.Second}, {1000, 20 * time.Second}, {5000, 100 * time.Second}} {
		if got := p.TTL(c.nodes); got != c.want {
			t.Errorf("TTL(%d) = %v, want %v", c.nodes, got, c.want)
		}
	}
}

func TestHeartbeatJitterStaysSmall(t *testing.T) {
	h := NewHeartbeatsWithPolicy(HeartbeatPolicy{MinTTL: 10 * time.Second}, func(string) {}, logging.Discard())
	for range 100 {
		ttl := h.Reset("a")
		if ttl < 10*time.Second || ttl >= 10*time.Second+500*time.Millisecond {
			t.Fatalf("ttl %v outside [10s, 10.5s)", ttl)
		}
	}
}
