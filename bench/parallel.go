package main

// The submit-to-all-running figure for many instances, and what it is
// compared with in the same run:
//   - bare engine, drover's options: the engine creates and starts count
//     containers in parallel with the options drover gave one of its own
//     (read back from the engine: ports published for tcp and udp, labels,
//     environment, bind mounts, limits, log config);
//   - bare engine, minimal options: the image and nothing else;
//   - drover's docker driver alone: count StartTask calls in parallel,
//     without servers, scheduler or allocation runners.
// Each repetition runs all four back to back, so the noise of a shared
// machine hits them alike; the ratio drover / bare is per repetition.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/client/driver"
	dockerdriver "github.com/drover-project/drover/client/driver/docker"
	"github.com/drover-project/drover/internal/demoimage"
	"github.com/drover-project/drover/structs"
)

// manyResult holds one count's measurements, one entry per repetition.
type manyResult struct {
	count                               int
	drover, bareSame, bareMin, drvAlone []time.Duration
	// phases is the trace of the drover run with the median time;
	// barePhases of the bare run (drover's options) with the median time.
	phases, barePhases []allocTrace
}

// benchJob is the job the figures submit: the demo app with one published port.
func benchJob(id string, count int) *structs.Job {
	return &structs.Job{ID: id, Type: structs.JobTypeService, TaskGroups: []*structs.TaskGroup{{
		Name:     "g",
		Count:    count,
		Networks: []*structs.NetworkResource{{DynamicPorts: []structs.Port{{Label: "http", To: 8080}}}},
		Tasks: []*structs.Task{{
			Name:      "t",
			Driver:    "docker",
			Config:    map[string]any{"image": demoimage.Ref("v1"), "ports": []any{"http"}},
			Resources: &structs.Resources{CPU: 50, MemoryMB: 32},
		}},
	}}}
}

// droverOptions runs the bench job with count 1 and reads back from the
// engine the options drover gave its container.
func droverOptions(ctx context.Context, docker *client.Client, addr string) (*container.InspectResponse, error) {
	id := fmt.Sprintf("bench-capture-%d", os.Getpid())
	if err := registerJob(addr, benchJob(id, 1)); err != nil {
		return nil, err
	}
	if _, err := waitAllocs(addr, id, 1, structs.AllocClientStatusRunning); err != nil {
		return nil, err
	}
	list, err := docker.ContainerList(ctx, client.ContainerListOptions{
		Filters: make(client.Filters).Add("label", dockerdriver.LabelJobID+"="+id),
	})
	if err != nil {
		return nil, err
	}
	if len(list.Items) != 1 {
		return nil, fmt.Errorf("job %s: %d containers, want 1", id, len(list.Items))
	}
	res, err := docker.ContainerInspect(ctx, list.Items[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	if err := stopJob(addr, id, 1); err != nil {
		return nil, err
	}
	return &res.Container, nil
}

// measureMany measures, reps times, every figure of one count.
func measureMany(ctx context.Context, docker *client.Client, addr, dir string, opts *container.InspectResponse,
	count, reps int) (*manyResult, error) {
	r := &manyResult{count: count}
	drv, err := dockerdriver.New(dockerdriver.Config{Client: docker, Logger: quietLogger()})
	if err != nil {
		return nil, err
	}
	defer drv.Close()
	var traces, bareTraces [][]allocTrace
	for rep := range reps {
		// Each figure of the repetition in turn, starting with another one
		// each time, so none always follows the same.
		for k := range 4 {
			switch (rep + k) % 4 {
			case 0:
				id := fmt.Sprintf("bench-%d-%d", count, rep)
				d, trace, err := droverRun(ctx, docker, addr, id, count)
				if err != nil {
					return nil, fmt.Errorf("drover: %w", err)
				}
				r.drover = append(r.drover, d)
				traces = append(traces, trace)
			case 1:
				d, trace, err := bareParallel(ctx, docker, filepath.Join(dir, "bare"), count, opts)
				if err != nil {
					return nil, fmt.Errorf("bare engine, drover's options: %w", err)
				}
				r.bareSame = append(r.bareSame, d)
				bareTraces = append(bareTraces, trace)
			case 2:
				d, _, err := bareParallel(ctx, docker, filepath.Join(dir, "bare"), count, nil)
				if err != nil {
					return nil, fmt.Errorf("bare engine, minimal options: %w", err)
				}
				r.bareMin = append(r.bareMin, d)
			case 3:
				d, err := driverParallel(ctx, drv, filepath.Join(dir, "driver"), count, opts)
				if err != nil {
					return nil, fmt.Errorf("driver alone: %w", err)
				}
				r.drvAlone = append(r.drvAlone, d)
			}
		}
	}
	// The trace of the median drover run.
	order := make([]int, reps)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(r.drover[a] - r.drover[b]) })
	r.phases = traces[order[(reps-1)/2]]
	slices.SortFunc(order, func(a, b int) int { return int(r.bareSame[a] - r.bareSame[b]) })
	r.barePhases = bareTraces[order[(reps-1)/2]]
	return r, nil
}

// allocTrace is when each step of one allocation happened, since submit.
type allocTrace struct {
	scheduled, received, setup, engineCreate, engineStart, started, reported, observed time.Duration
}

// droverRun submits the job, waits until every allocation runs, and traces
// each allocation's steps from the allocations' task events, the engine's
// container events and the bench's own observation. It stops and purges
// the job before returning.
func droverRun(ctx context.Context, docker *client.Client, addr, id string, count int) (time.Duration, []allocTrace, error) {
	rec, err := recordEngineEvents(ctx, docker, id)
	if err != nil {
		return 0, nil, err
	}
	defer rec.stop()

	start := time.Now()
	if err := registerJob(addr, benchJob(id, count)); err != nil {
		return 0, nil, err
	}
	observed, err := waitAllocs(addr, id, count, structs.AllocClientStatusRunning)
	if err != nil {
		return 0, nil, err
	}
	took := time.Since(start)

	allocs, err := jobAllocs(addr, id)
	if err != nil {
		return 0, nil, err
	}
	creates, starts := rec.wait(count)
	since := func(t time.Time) time.Duration {
		if t.IsZero() {
			return -1
		}
		return t.Sub(start)
	}
	sinceNano := func(ns int64) time.Duration {
		if ns == 0 {
			return -1
		}
		return since(time.Unix(0, ns))
	}
	var trace []allocTrace
	for _, a := range allocs {
		tr := allocTrace{
			scheduled:    sinceNano(a.CreateTime),
			reported:     sinceNano(a.ModifyTime),
			engineCreate: since(creates[a.ID]),
			engineStart:  since(starts[a.ID]),
			observed:     since(observed[a.ID]),
		}
		if ts := a.TaskStates["t"]; ts != nil {
			for _, e := range ts.Events {
				switch e.Type {
				case structs.TaskReceived:
					tr.received = sinceNano(e.Time)
				case structs.TaskSetup:
					tr.setup = sinceNano(e.Time)
				case structs.TaskStarted:
					tr.started = sinceNano(e.Time)
				}
			}
		}
		trace = append(trace, tr)
	}
	if err := stopJob(addr, id, count); err != nil {
		return 0, nil, err
	}
	return took, trace, nil
}

// engineEvents records when the engine created and started the containers
// of one job (by drover's job label), by allocation label.
type engineEvents struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu              sync.Mutex
	creates, starts map[string]time.Time
}

func recordEngineEvents(ctx context.Context, docker *client.Client, jobID string) (*engineEvents, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &engineEvents{cancel: cancel, done: make(chan struct{}),
		creates: map[string]time.Time{}, starts: map[string]time.Time{}}
	evs := docker.Events(ctx, client.EventsListOptions{Filters: make(client.Filters).
		Add("type", "container").Add("event", "create", "start").
		Add("label", dockerdriver.LabelJobID+"="+jobID)})
	go func() {
		defer close(r.done)
		for {
			select {
			case m := <-evs.Messages:
				alloc := m.Actor.Attributes[dockerdriver.LabelAllocID]
				t := time.Unix(0, m.TimeNano)
				r.mu.Lock()
				switch m.Action {
				case events.ActionCreate:
					r.creates[alloc] = t
				case events.ActionStart:
					r.starts[alloc] = t
				}
				r.mu.Unlock()
			case <-evs.Err:
				return
			}
		}
	}()
	// The stream is open once the engine answered; a request after it
	// makes sure that happened before what is measured.
	if _, err := docker.Ping(ctx, client.PingOptions{}); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// wait waits (briefly: events may trail the API a little) for count
// starts, and returns what was recorded.
func (r *engineEvents) wait(count int) (creates, starts map[string]time.Time) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		n := len(r.starts)
		r.mu.Unlock()
		if n >= count || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop()
	return r.creates, r.starts
}

func (r *engineEvents) stop() {
	r.cancel()
	<-r.done
}

// bareParallel creates and starts count containers of the demo image in
// parallel, and returns how long until all were started. With opts, each
// container gets the options drover gave the inspected container (fresh
// host ports and mount sources); without, only the image. The containers
// are removed before it returns.
func bareParallel(ctx context.Context, docker *client.Client, dir string, count int, opts *container.InspectResponse) (time.Duration, []allocTrace, error) {
	type spec struct {
		cc *container.Config
		hc *container.HostConfig
	}
	specs := make([]spec, count)
	used := map[int]bool{}
	for i := range specs {
		if opts == nil {
			specs[i] = spec{&container.Config{Image: demoimage.Ref("v1")}, &container.HostConfig{}}
			continue
		}
		cc, hc := *opts.Config, *opts.HostConfig
		cc.Hostname = ""
		cc.Labels = maps.Clone(cc.Labels)
		for k := range cc.Labels {
			switch k {
			case dockerdriver.LabelAllocID:
				cc.Labels[k] = fmt.Sprintf("bench-bare-%d-%d", os.Getpid(), i)
			case dockerdriver.LabelJobID:
				cc.Labels[k] = "bench-bare"
			case dockerdriver.LabelNodeID:
				cc.Labels[k] = "bench-bare" // no drover client's orphan
			}
		}
		port, err := freePort(used)
		if err != nil {
			return 0, nil, err
		}
		hc.PortBindings = network.PortMap{}
		for p, bs := range opts.HostConfig.PortBindings {
			for _, b := range bs {
				b.HostPort = strconv.Itoa(port)
				hc.PortBindings[p] = append(hc.PortBindings[p], b)
			}
		}
		hc.Mounts = slices.Clone(hc.Mounts)
		for j := range hc.Mounts {
			src := filepath.Join(dir, strconv.Itoa(i), strconv.Itoa(j))
			if err := os.MkdirAll(src, 0o755); err != nil {
				return 0, nil, err
			}
			hc.Mounts[j].Source = src
		}
		specs[i] = spec{&cc, &hc}
	}
	rec, err := recordEngineEvents(ctx, docker, "bench-bare")
	if err != nil {
		return 0, nil, err
	}
	defer rec.stop()
	ids := make([]string, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	start := time.Now()
	for i, s := range specs {
		wg.Go(func() {
			name := fmt.Sprintf("drover-bench-bare-%d-%d", os.Getpid(), i)
			created, err := docker.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: s.cc, HostConfig: s.hc})
			if err != nil {
				errs[i] = err
				return
			}
			ids[i] = created.ID
			_, errs[i] = docker.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
		})
	}
	wg.Wait()
	took := time.Since(start)
	var trace []allocTrace
	if opts != nil {
		creates, starts := rec.wait(count)
		for alloc, t := range creates {
			trace = append(trace, allocTrace{engineCreate: t.Sub(start), engineStart: starts[alloc].Sub(start)})
		}
	}
	var rmErr error
	for i, id := range ids {
		if id == "" {
			continue
		}
		wg.Go(func() {
			if _, err := docker.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	os.RemoveAll(dir)
	for _, err := range errs {
		if err != nil && rmErr == nil {
			rmErr = err
		}
	}
	return took, trace, rmErr
}

// driverParallel starts count tasks through drover's docker driver in
// parallel, with the environment, limits and mounts of the inspected
// drover container, and returns how long until all StartTask calls
// returned. The tasks are destroyed before it returns.
func driverParallel(ctx context.Context, drv *dockerdriver.Driver, dir string, count int, opts *container.InspectResponse) (time.Duration, error) {
	env := map[string]string{}
	for _, kv := range opts.Config.Env {
		if k, v, ok := cut(kv); ok {
			env[k] = v
		}
	}
	cfgs := make([]*driver.TaskConfig, count)
	used := map[int]bool{}
	for i := range cfgs {
		port, err := freePort(used)
		if err != nil {
			return 0, err
		}
		task := filepath.Join(dir, strconv.Itoa(i))
		cfg := &driver.TaskConfig{
			AllocID:    fmt.Sprintf("bench-driver-%d-%d", os.Getpid(), i),
			JobID:      "bench-driver",
			JobName:    "bench-driver",
			GroupName:  "g",
			TaskName:   "t",
			Image:      demoimage.Ref("v1"),
			PortLabels: []string{"http"},
			Env:        env,
			Ports:      []driver.PortMapping{{Label: "http", HostPort: port, ContainerPort: 8080}},
			CPUShares:  50,
			MemoryMB:   32,
			StdoutPath: filepath.Join(task, "t.stdout.0"),
			StderrPath: filepath.Join(task, "t.stderr.0"),
		}
		cfg.TaskDir = task
		cfg.DriverConfig = map[string]any{"image": demoimage.Ref("v1"), "ports": []any{"http"}}
		for _, sub := range []string{"alloc", "local", "secrets"} {
			p := filepath.Join(task, sub)
			if err := os.MkdirAll(p, 0o755); err != nil {
				return 0, err
			}
			cfg.Mounts = append(cfg.Mounts, driver.Mount{Type: driver.MountBind, Source: p, Target: "/" + sub})
		}
		cfgs[i] = cfg
	}
	handles := make([]*driver.TaskHandle, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	start := time.Now()
	for i, cfg := range cfgs {
		wg.Go(func() { handles[i], errs[i] = drv.StartTask(ctx, cfg) })
	}
	wg.Wait()
	took := time.Since(start)
	for i, h := range handles {
		if h == nil {
			continue
		}
		wg.Go(func() {
			// Stopped first, as the task runner does, so the output is
			// copied to the end rather than cut by the removal.
			if err := drv.StopTask(ctx, h, time.Second, "SIGKILL"); err != nil && errs[i] == nil {
				errs[i] = err
			}
			if err := drv.DestroyTask(ctx, h, true); err != nil && errs[i] == nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	os.RemoveAll(dir)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return took, nil
}

func cut(kv string) (string, string, bool) {
	for i := range len(kv) {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return "", "", false
}

// freePort finds a host port free for both tcp and udp, and not in used
// (the ports given out for containers not yet created), which it adds to.
func freePort(used map[int]bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if used[port] {
			l.Close()
			continue
		}
		u, err := net.ListenPacket("udp", ":"+strconv.Itoa(port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		used[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no port free for both tcp and udp")
}

func registerJob(addr string, job *structs.Job) error {
	body, _ := json.Marshal(map[string]any{"Job": job})
	resp, err := http.Post(addr+"/v1/jobs", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("register %s: %s", job.ID, resp.Status)
	}
	return nil
}

// stopJob stops the job, waits until its allocations completed (so the
// next measurement does not compete with this teardown), and purges it.
func stopJob(addr, id string, count int) error {
	if err := deleteJob(addr, id, false); err != nil {
		return err
	}
	if _, err := waitAllocs(addr, id, count, structs.AllocClientStatusComplete); err != nil {
		return err
	}
	return deleteJob(addr, id, true)
}

func jobAllocs(addr, id string) ([]*structs.AllocListStub, error) {
	resp, err := http.Get(fmt.Sprintf("%s/v1/job/%s/allocations", addr, id))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var allocs []*structs.AllocListStub
	return allocs, json.NewDecoder(resp.Body).Decode(&allocs)
}

// phaseRows prints where the time of one drover run went: when each step
// was reached, since submit, by the first, the median and the last
// allocation, and how long each step took per allocation.
func phaseRows(w interface{ Write([]byte) (int, error) }, r *manyResult) {
	type step struct {
		name string
		at   func(t allocTrace) time.Duration
	}
	steps := []step{
		{"scheduled (alloc created on the server)", func(t allocTrace) time.Duration { return t.scheduled }},
		{"received by the client (task event)", func(t allocTrace) time.Duration { return t.received }},
		{"task setup (task event)", func(t allocTrace) time.Duration { return t.setup }},
		{"engine: container created (engine event)", func(t allocTrace) time.Duration { return t.engineCreate }},
		{"engine: container started (engine event)", func(t allocTrace) time.Duration { return t.engineStart }},
		{"started (task event, driver returned)", func(t allocTrace) time.Duration { return t.started }},
		{"running reported to the server", func(t allocTrace) time.Duration { return t.reported }},
		{"running seen by the bench (API)", func(t allocTrace) time.Duration { return t.observed }},
	}
	fmt.Fprintf(w, "\ntrace of the median drover run, count %d (time since submit)\t first\t median\t last\n", r.count)
	for _, s := range steps {
		var ds []time.Duration
		for _, t := range r.phases {
			if d := s.at(t); d >= 0 {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t-\n", s.name)
			continue
		}
		slices.Sort(ds)
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.name, ds[0].Round(time.Millisecond),
			ds[(len(ds)-1)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
	for _, s := range []step{
		{"bare engine, drover's options: container created", steps[3].at},
		{"bare engine, drover's options: container started", steps[4].at},
	} {
		var ds []time.Duration
		for _, t := range r.barePhases {
			if d := s.at(t); d >= 0 {
				ds = append(ds, d)
			}
		}
		if len(ds) > 0 {
			slices.Sort(ds)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.name, ds[0].Round(time.Millisecond),
				ds[(len(ds)-1)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
		}
	}
	type span struct {
		name     string
		from, to func(t allocTrace) time.Duration
	}
	spans := []span{
		{"scheduled -> received", steps[0].at, steps[1].at},
		{"received -> engine create done", steps[1].at, steps[3].at},
		{"engine create -> engine start", steps[3].at, steps[4].at},
		{"engine start -> driver returned", steps[4].at, steps[5].at},
		{"driver returned -> reported", steps[5].at, steps[6].at},
	}
	fmt.Fprintf(w, "per allocation, count %d\t p50\t p90\t max\n", r.count)
	for _, s := range spans {
		var ds []time.Duration
		for _, t := range r.phases {
			if a, b := s.from(t), s.to(t); a >= 0 && b >= 0 {
				ds = append(ds, b-a)
			}
		}
		if len(ds) == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t-\n", s.name)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.name, pct(ds, 50), pct(ds, 90), pct(ds, 100))
	}
}

// quietLogger keeps the driver's warnings on stderr and nothing else.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
