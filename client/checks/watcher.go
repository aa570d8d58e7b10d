package checks

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/structs"
)

// Target is one check to run, with the address it probes.
type Target struct {
	// ID names the check within its allocation, e.g. "api/http".
	ID      string
	Service string
	Check   *structs.ServiceCheck
	// Addr is host:port for http, tcp and grpc checks.
	Addr string
}

// Status is the state of one check after its thresholds are applied.
type Status struct {
	ID      string
	Service string
	Name    string
	Status  string
	Output  string
	Updated time.Time
}

// Config of a watcher.
type Config struct {
	Targets []Target
	Exec    Executor
	Clock   clock.Clock
	Logger  *slog.Logger
	// OnChange is called, from the watcher's goroutines, whenever a check's
	// status changes, with a copy of all statuses.
	OnChange func([]Status)
	// OnRestart is called when a check with check_restart stayed unhealthy
	// `limit` times in a row after its grace period: the task must restart.
	OnRestart func(task, reason string)
	// Task is the task the checks belong to, for OnRestart.
	Task string
}

// Watcher runs an allocation's checks until its context ends.
type Watcher struct {
	cfg Config

	mu       sync.Mutex
	statuses map[string]*checkState
}

type checkState struct {
	Status
	successes, failures int // consecutive, for the before_* thresholds
	unhealthy           int // consecutive, for check_restart
}

// New returns a watcher; Run starts it.
func New(cfg Config) *Watcher {
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{cfg: cfg, statuses: map[string]*checkState{}}
	now := cfg.Clock.Now()
	for _, t := range cfg.Targets {
		initial := t.Check.InitialStatus
		if initial == "" {
			initial = structs.CheckCritical
		}
		w.statuses[t.ID] = &checkState{Status: Status{ID: t.ID, Service: t.Service, Name: t.Check.Name, Status: initial, Updated: now}}
	}
	return w
}

// Statuses returns every check's current status.
func (w *Watcher) Statuses() []Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snapshotLocked()
}

func (w *Watcher) snapshotLocked() []Status {
	out := make([]Status, 0, len(w.cfg.Targets))
	for _, t := range w.cfg.Targets {
		out = append(out, w.statuses[t.ID].Status)
	}
	return out
}

// Healthy reports whether every check passes (warnings count as passing
// when ignoreWarnings).
func Healthy(statuses []Status, ignoreWarnings bool) bool {
	for _, s := range statuses {
		if s.Status == structs.CheckPassing || (ignoreWarnings && s.Status == structs.CheckWarning) {
			continue
		}
		return false
	}
	return true
}

// Run probes every check on its interval until ctx ends. The first probe
// of each check runs at once.
func (w *Watcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	started := w.cfg.Clock.Now()
	for _, t := range w.cfg.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, t, started)
		}()
	}
	wg.Wait()
}

func (w *Watcher) loop(ctx context.Context, t Target, started time.Time) {
	for {
		status, output := probe(ctx, t.Check, t.Addr, w.cfg.Exec)
		if ctx.Err() != nil {
			return
		}
		w.record(t, status, output, started)
		timer := w.cfg.Clock.NewTimer(t.Check.Interval)
		select {
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
}

// record applies one result: the success/failure thresholds decide the
// check's status, and check_restart counts unhealthy results after grace.
func (w *Watcher) record(t Target, result, output string, started time.Time) {
	now := w.cfg.Clock.Now()
	w.mu.Lock()
	st := w.statuses[t.ID]
	if result == structs.CheckPassing {
		st.successes++
		st.failures = 0
	} else {
		st.failures++
		st.successes = 0
	}
	next := st.Status.Status
	switch {
	case result == structs.CheckPassing && st.successes >= t.Check.SuccessBeforePassing:
		next = structs.CheckPassing
	case result != structs.CheckPassing && st.failures >= t.Check.FailuresBeforeCritical:
		next = result
	}
	changed := next != st.Status.Status
	st.Status.Status, st.Output, st.Updated = next, output, now

	restart := ""
	if r := t.Check.CheckRestart; r != nil && r.Limit > 0 && now.Sub(started) >= r.Grace {
		healthy := next == structs.CheckPassing || (r.IgnoreWarnings && next == structs.CheckWarning)
		if healthy {
			st.unhealthy = 0
		} else {
			st.unhealthy++
			if st.unhealthy >= r.Limit {
				st.unhealthy = 0
				restart = "check " + t.Check.Name + " unhealthy: " + output
			}
		}
	}
	var snapshot []Status
	if changed {
		snapshot = w.snapshotLocked()
	}
	w.mu.Unlock()

	if changed {
		w.cfg.Logger.Debug("check status changed", "check", t.ID, "status", next, "output", output)
		if w.cfg.OnChange != nil {
			w.cfg.OnChange(snapshot)
		}
	}
	if restart != "" && w.cfg.OnRestart != nil {
		w.cfg.OnRestart(w.cfg.Task, restart)
	}
}
