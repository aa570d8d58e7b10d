package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/internal/benchjob"
	"github.com/drover-project/drover/structs"
)

// newCluster starts a cluster of the binary TestMain built.
func newCluster(t *testing.T, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	opts.Binary = droverBin
	return cluster.New(t, opts)
}

// serverOnlyJob is the registration-only job named id: with no client in
// the cluster its evaluation stays blocked, so registering it exercises
// Raft and nothing else.
func serverOnlyJob(t *testing.T, id string) *structs.Job {
	t.Helper()
	job, err := benchjob.New(id)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// removeContainersAtEnd force-removes the containers of jobs when the test
// ends. A test calls it before it starts its cluster: cleanups run last
// registered first, so this one runs after the cluster's cleanup has
// stopped the clients, which leave their containers running.
func removeContainersAtEnd(t *testing.T, jobs ...string) {
	t.Cleanup(func() {
		for _, job := range jobs {
			removeJobContainers(t, job)
		}
	})
}

// register registers a registration-only job through agent a.
func register(t *testing.T, a *cluster.Agent, id string) error {
	t.Helper()
	_, err := a.API().Jobs().Register(serverOnlyJob(t, id))
	return err
}

// mustRegister registers a job, retrying for a while: a cluster that just
// elected a leader may refuse the first writes.
func mustRegister(t *testing.T, a *cluster.Agent, id string) {
	t.Helper()
	var err error
	waitFor(t, 20*time.Second, "registration of "+id+" through "+a.Name, func() (bool, error) {
		err = register(t, a, id)
		return err == nil, err
	})
}

// staleJobs is the set of job IDs agent a has in its own state store, and
// the index of that answer.
func staleJobs(a *cluster.Agent) (map[string]bool, uint64, error) {
	stubs, meta, err := a.API().Jobs().List(&api.QueryOptions{AllowStale: true})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", a.Name, err)
	}
	ids := map[string]bool{}
	for _, s := range stubs {
		ids[s.ID] = true
	}
	return ids, meta.LastIndex, nil
}

// waitJobsOnEvery waits until every agent's own state holds every job of want.
func waitJobsOnEvery(t *testing.T, timeout time.Duration, agents []*cluster.Agent, want []string) {
	t.Helper()
	for _, a := range agents {
		waitFor(t, timeout, fmt.Sprintf("%d acknowledged jobs on %s (?stale)", len(want), a.Name), func() (bool, error) {
			have, _, err := staleJobs(a)
			if err != nil {
				return false, err
			}
			var missing []string
			for _, id := range want {
				if !have[id] {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return false, fmt.Errorf("%d missing, e.g. %v", len(missing), missing[:min(5, len(missing))])
			}
			return true, nil
		})
	}
}

// waitStatesAgree waits until every agent answers the job list with the
// same jobs and the same X-Nomad-Index, and returns those jobs.
func waitStatesAgree(t *testing.T, timeout time.Duration, agents []*cluster.Agent) map[string]bool {
	t.Helper()
	var agreed map[string]bool
	waitFor(t, timeout, "the same jobs and index on "+fmt.Sprint(agents), func() (bool, error) {
		var first map[string]bool
		var firstIndex uint64
		for i, a := range agents {
			jobs, index, err := staleJobs(a)
			if err != nil {
				return false, err
			}
			if i == 0 {
				first, firstIndex = jobs, index
				continue
			}
			if index != firstIndex || !maps.Equal(jobs, first) {
				return false, fmt.Errorf("%s has %d jobs at index %d, %s has %d at index %d",
					agents[0].Name, len(first), firstIndex, a.Name, len(jobs), index)
			}
		}
		agreed = first
		return true, nil
	})
	return agreed
}

// droverAt runs the CLI against the agent at addr and returns its output
// and exit code. The CLI runs in the root namespace, which reaches every
// agent of a cluster.
func droverAt(t *testing.T, addr string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, droverBin, args...)
	cmd.Env = append(os.Environ(), "DROVER_ADDR="+addr)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("drover %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// sortedKeys lists a set in order, for messages.
func sortedKeys(set map[string]bool) []string { return slices.Sorted(maps.Keys(set)) }

// steadyWriter registers jobs at a steady rate, sending them to its
// targets in turn, and remembers which registrations were acknowledged.
// It never has more than maxInFlight requests open (a tick that finds them
// all busy is skipped) and stops by itself after maxWrites attempts.
type steadyWriter struct {
	prefix   string
	template *structs.Job
	clients  []*api.Client

	stop chan struct{}
	done chan struct{}
	reqs sync.WaitGroup

	mu     sync.Mutex
	acked  []ackedWrite
	failed []error
}

type ackedWrite struct {
	id string
	at time.Time
}

const (
	writerMaxInFlight = 8
	writerMaxWrites   = 5000
	// writerTimeout bounds one write: long enough for a failover, short
	// enough that a lost request does not hold the test.
	writerTimeout = 10 * time.Second
)

func startWriter(t *testing.T, prefix string, interval time.Duration, targets []*cluster.Agent) *steadyWriter {
	t.Helper()
	w := &steadyWriter{
		prefix:   prefix,
		template: serverOnlyJob(t, prefix),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, a := range targets {
		cl, err := api.NewClient(&api.Config{Address: a.HTTP, HTTPClient: &http.Client{Timeout: writerTimeout}})
		if err != nil {
			t.Fatal(err)
		}
		w.clients = append(w.clients, cl)
	}
	go w.loop(interval)
	t.Cleanup(func() { w.Stop() })
	return w
}

func (w *steadyWriter) loop(interval time.Duration) {
	defer close(w.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	slots := make(chan struct{}, writerMaxInFlight)
	for n := range writerMaxWrites {
		select {
		case <-w.stop:
			return
		case <-ticker.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			continue // every slot busy: skip this tick
		}
		job := w.template.Copy()
		job.ID = fmt.Sprintf("%s-%05d", w.prefix, n)
		job.Name = job.ID
		cl := w.clients[n%len(w.clients)]
		w.reqs.Add(1)
		go func() {
			defer func() { <-slots; w.reqs.Done() }()
			_, err := cl.Jobs().Register(job)
			w.mu.Lock()
			defer w.mu.Unlock()
			if err != nil {
				w.failed = append(w.failed, fmt.Errorf("%s via %s: %w", job.ID, cl.Address(), err))
				return
			}
			w.acked = append(w.acked, ackedWrite{id: job.ID, at: time.Now()})
		}()
	}
}

// ackedSince counts the registrations acknowledged after t.
func (w *steadyWriter) ackedSince(t time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.acked {
		if a.at.After(t) {
			n++
		}
	}
	return n
}

// Stop ends the writer, waits for its open requests and returns the IDs of
// every acknowledged registration and the failures.
func (w *steadyWriter) Stop() ([]string, []error) {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.reqs.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, len(w.acked))
	for i, a := range w.acked {
		ids[i] = a.id
	}
	return ids, slices.Clone(w.failed)
}
