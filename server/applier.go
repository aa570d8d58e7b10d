package server

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// applier hands encoded log entries to Raft, in two classes:
//
//   - foreground writes, which a caller is waiting on (an API request, a
//     client's update, a plan), go to Raft at once;
//   - background writes (the scheduler's evaluation updates) may wait up
//     to linger for the next foreground write while there is foreground
//     traffic, and then go to Raft just before it.
//
// Writes handed to Raft together are appended to the leader's log in one
// batch (one fsync), sent to each follower in one AppendEntries (one fsync
// there) and committed together (raft's group commit, with its apply
// channel buffered; see raftBatching). Without the wait, a background write that
// comes just before a request's write is synced on its own, and the
// request waits behind it on every server. Each entry is still an entry of
// its own, committed by a quorum before its Apply returns.
//
// With no foreground write in the last active, a background write goes at
// once: a burst of scheduling alone is never slowed down.
type applier struct {
	raft    raftApply
	timeout time.Duration
	linger  time.Duration
	active  time.Duration
	now     func() time.Time
	// afterFunc is time.AfterFunc (tests replace it).
	afterFunc func(time.Duration, func()) stopper

	mu             sync.Mutex
	waiting        []*lingering
	timer          stopper
	lastForeground time.Time
}

// raftApply is the part of *raft.Raft the applier uses.
type raftApply interface {
	Apply(cmd []byte, timeout time.Duration) raft.ApplyFuture
}

// stopper is the part of *time.Timer the applier uses.
type stopper interface{ Stop() bool }

// lingering is a background write waiting for company.
type lingering struct {
	data []byte
	// future receives the write's future once it is handed to Raft.
	future chan raft.ApplyFuture
}

// Defaults of the applier: a background write waits at most
// backgroundLinger, and only while a foreground write came within
// foregroundActive.
const (
	backgroundLinger = 2 * time.Millisecond
	foregroundActive = 20 * time.Millisecond
	// maxLingering flushes the background writes once this many wait.
	maxLingering = 64
)

func newApplier(r raftApply, timeout time.Duration) *applier {
	return &applier{
		raft: r, timeout: timeout, linger: backgroundLinger, active: foregroundActive, now: time.Now,
		afterFunc: func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) },
	}
}

// foreground hands data to Raft now, after the background writes waiting
// for it.
func (a *applier) foreground(data []byte) raft.ApplyFuture {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastForeground = a.now()
	a.flushLocked()
	return a.raft.Apply(data, a.timeout)
}

// background hands data to Raft with the next foreground write, or after
// the linger, or now when there is no foreground traffic.
func (a *applier) background(data []byte) raft.ApplyFuture {
	a.mu.Lock()
	if a.linger <= 0 || a.lastForeground.IsZero() || a.now().Sub(a.lastForeground) > a.active {
		a.mu.Unlock()
		return a.raft.Apply(data, a.timeout)
	}
	l := &lingering{data: data, future: make(chan raft.ApplyFuture, 1)}
	a.waiting = append(a.waiting, l)
	switch {
	case len(a.waiting) >= maxLingering:
		a.flushLocked()
	case a.timer == nil:
		a.timer = a.afterFunc(a.linger, a.flush)
	}
	a.mu.Unlock()
	return <-l.future
}

// flush hands the waiting background writes to Raft (the linger ended).
func (a *applier) flush() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.flushLocked()
}

// flushLocked hands the waiting writes to Raft in the order they came.
// It holds a.mu meanwhile, so that a foreground write follows them
// directly. raft.Apply only queues the entry (the apply channel is
// buffered), so the lock is held briefly.
func (a *applier) flushLocked() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	for _, l := range a.waiting {
		l.future <- a.raft.Apply(l.data, a.timeout)
	}
	a.waiting = nil
}
