package server

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// fakeRaft records the order entries are handed to it in.
type fakeRaft struct {
	mu      sync.Mutex
	entries []string
	applied chan string
}

func newFakeRaft() *fakeRaft { return &fakeRaft{applied: make(chan string, 100)} }

func (f *fakeRaft) Apply(cmd []byte, _ time.Duration) raft.ApplyFuture {
	f.mu.Lock()
	f.entries = append(f.entries, string(cmd))
	f.mu.Unlock()
	f.applied <- string(cmd)
	return doneFuture{}
}

func (f *fakeRaft) order() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.entries)
}

type doneFuture struct{ raft.ApplyFuture }

func (doneFuture) Error() error { return nil }

// manualTimer fires only when the test says so.
type manualTimer struct {
	mu      sync.Mutex
	f       func()
	stopped bool
}

func (t *manualTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (t *manualTimer) fire() {
	t.mu.Lock()
	stopped := t.stopped
	t.stopped = true
	t.mu.Unlock()
	if !stopped {
		t.f()
	}
}

// testApplier returns an applier over a fake raft whose clock and timers
// the test drives; timers receives each timer the applier arms.
func testApplier(t *testing.T) (*applier, *fakeRaft, *time.Time, chan *manualTimer) {
	t.Helper()
	r := newFakeRaft()
	now := time.Unix(1700000000, 0)
	timers := make(chan *manualTimer, 10)
	a := newApplier(r, time.Second)
	a.now = func() time.Time { return now }
	a.afterFunc = func(_ time.Duration, f func()) stopper {
		mt := &manualTimer{f: f}
		timers <- mt
		return mt
	}
	return a, r, &now, timers
}

func waitApplied(t *testing.T, r *fakeRaft, want string) {
	t.Helper()
	select {
	case got := <-r.applied:
		if got != want {
			t.Fatalf("raft got %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%q never reached raft", want)
	}
}

func TestApplierBackgroundGoesAtOnceWithoutForegroundTraffic(t *testing.T) {
	a, r, now, timers := testApplier(t)
	a.background([]byte("b1")) // no foreground write yet
	waitApplied(t, r, "b1")

	a.foreground([]byte("f1"))
	waitApplied(t, r, "f1")
	*now = now.Add(foregroundActive + time.Millisecond) // the traffic stopped
	a.background([]byte("b2"))
	waitApplied(t, r, "b2")
	if len(timers) != 0 {
		t.Fatalf("a timer was armed although nothing had to wait")
	}
}

func TestApplierBackgroundWaitsForTheNextForegroundWrite(t *testing.T) {
	a, r, _, timers := testApplier(t)
	a.foreground([]byte("f1"))
	waitApplied(t, r, "f1")

	done := make(chan struct{})
	go func() {
		defer close(done)
		a.background([]byte("b1"))
	}()
	<-timers // b1 is waiting
	select {
	case got := <-r.applied:
		t.Fatalf("%q reached raft before the next foreground write", got)
	default:
	}
	a.foreground([]byte("f2"))
	<-done
	if got, want := r.order(), []string{"f1", "b1", "f2"}; !slices.Equal(got, want) {
		t.Fatalf("raft got %v, want %v: the waiting background write goes just before the foreground one", got, want)
	}
}

func TestApplierBackgroundGoesWhenTheLingerEnds(t *testing.T) {
	a, r, _, timers := testApplier(t)
	a.foreground([]byte("f1"))
	waitApplied(t, r, "f1")

	done := make(chan struct{})
	go func() {
		defer close(done)
		a.background([]byte("b1"))
	}()
	timer := <-timers
	timer.fire()
	<-done
	waitApplied(t, r, "b1")
}

func TestApplierFlushesAFullBatch(t *testing.T) {
	a, r, _, timers := testApplier(t)
	a.foreground([]byte("f1"))
	waitApplied(t, r, "f1")

	var wg sync.WaitGroup
	for range maxLingering {
		wg.Go(func() { a.background([]byte("b")) })
	}
	wg.Wait() // returns without a foreground write or a timer firing
	if n := len(r.order()); n != 1+maxLingering {
		t.Fatalf("raft got %d entries, want %d", n, 1+maxLingering)
	}
	<-timers
}
