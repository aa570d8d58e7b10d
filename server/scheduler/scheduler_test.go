package scheduler_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/drover-project/drover/server/scheduler"
	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// setup stores nodes and job in a new harness and returns it with the
// stored job (which carries its indexes).
func setup(t *testing.T, job *structs.Job, nodes ...*structs.Node) (*st.Harness, *structs.Job) {
	t.Helper()
	h := st.NewHarness()
	for _, n := range nodes {
		h.State.UpsertNode(n)
	}
	return h, h.State.UpsertJob(job)
}

// process runs one evaluation of job and checks that it completed and that
// the result fits the nodes.
func process(t *testing.T, h *st.Harness, job *structs.Job) *structs.Evaluation {
	t.Helper()
	eval := h.NewEval(job, structs.EvalTriggerJobRegister)
	if err := h.Process(eval); err != nil {
		t.Fatalf("Process: %v", err)
	}
	got := h.LastEval()
	if got == nil || got.ID != eval.ID {
		t.Fatalf("evaluation %s was not updated", eval.ID)
	}
	if got.Status != structs.EvalStatusComplete {
		t.Fatalf("evaluation status %q (%s), want complete", got.Status, got.StatusDescription)
	}
	if err := h.State.CheckFit(); err != nil {
		t.Fatal(err)
	}
	return got
}

// placement is where each live allocation runs, by name.
func placement(h *st.Harness) map[string]string {
	out := map[string]string{}
	for _, a := range h.State.LiveAllocs() {
		out[a.Name] = a.NodeID
	}
	return out
}

func nodeWith(id string, change func(n *structs.Node)) *structs.Node {
	n := st.Node(id)
	change(n)
	return n
}

func withPorts(job *structs.Job, nw *structs.NetworkResource) *structs.Job {
	job.TaskGroups[0].Networks = []*structs.NetworkResource{nw}
	return job
}

func TestPlacement(t *testing.T) {
	cases := []struct {
		name  string
		job   *structs.Job
		nodes []*structs.Node
		// before stores allocations of other jobs first.
		before func(h *st.Harness)
		// want is the node of each allocation, by name; "*" is any node.
		want map[string]string
		// distinct asks for every allocation on its own node.
		distinct bool
	}{
		{
			name:  "count 2 on one node",
			job:   st.Job("web", 2),
			nodes: []*structs.Node{st.Node("n1")},
			want:  map[string]string{"web.web[0]": "n1", "web.web[1]": "n1"},
		},
		{
			name:     "count 2 on three nodes spreads",
			job:      st.Job("web", 2),
			nodes:    []*structs.Node{st.Node("n1"), st.Node("n2"), st.Node("n3")},
			want:     map[string]string{"web.web[0]": "*", "web.web[1]": "*"},
			distinct: true,
		},
		{
			name:  "binpack prefers the fullest node that fits",
			job:   st.Job("web", 1),
			nodes: []*structs.Node{st.Node("empty"), st.Node("half"), st.Node("full"), st.Node("nearly")},
			before: func(h *st.Harness) {
				other := h.State.UpsertJob(st.Job("other", 1))
				load := func(node string, cpu, mem int) {
					a := st.Alloc(other, 0, st.Node(node))
					a.AllocatedResources.Tasks["app"].Cpu.CpuShares = int64(cpu)
					a.AllocatedResources.Tasks["app"].Memory.MemoryMB = int64(mem)
					h.State.UpsertAllocs(a)
				}
				load("half", 2000, 4096)
				load("nearly", 3000, 6000)
				load("full", 3800, 8000) // 500 MHz more does not fit
			},
			want: map[string]string{"web.web[0]": "nearly"},
		},
		{
			name: "static port taken on one node goes to the other",
			job:  withPorts(st.Job("web", 1), &structs.NetworkResource{ReservedPorts: []structs.Port{{Label: "http", Value: 8080}}}),
			// a is fuller, so it would win without the collision
			nodes: []*structs.Node{st.Node("a"), st.Node("b")},
			before: func(h *st.Harness) {
				other := h.State.UpsertJob(withPorts(st.Job("other", 1),
					&structs.NetworkResource{ReservedPorts: []structs.Port{{Label: "http", Value: 8080}}}))
				h.State.UpsertAllocs(st.Alloc(other, 0, st.Node("a")))
			},
			want: map[string]string{"web.web[0]": "b"},
		},
		{
			name: "datacenter wildcard and node pool all",
			job: func() *structs.Job {
				j := st.Job("web", 1)
				j.Datacenters = []string{"eu-*"}
				j.NodePool = "all"
				return j
			}(),
			nodes: []*structs.Node{
				st.Node("dc1"),
				nodeWith("eu", func(n *structs.Node) { n.Datacenter = "eu-west"; n.NodePool = "gpu" }),
			},
			want: map[string]string{"web.web[0]": "eu"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, job := setup(t, tc.job, tc.nodes...)
			if tc.before != nil {
				tc.before(h)
			}
			eval := process(t, h, job)
			got := map[string]string{}
			for _, a := range h.State.LiveAllocs() {
				if a.JobID == job.ID {
					got[a.Name] = a.NodeID
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("placed %v, want %v", got, tc.want)
			}
			for name, node := range tc.want {
				if n, ok := got[name]; !ok || (node != "*" && n != node) {
					t.Errorf("%s on %q, want %q (all: %v)", name, n, node, got)
				}
			}
			if tc.distinct && len(slices.Compact(slices.Sorted(maps.Values(got)))) != len(got) {
				t.Errorf("allocations share a node: %v", got)
			}
			if len(eval.FailedTGAllocs) != 0 || eval.BlockedEval != "" {
				t.Errorf("unexpected failures %v, blocked eval %q", eval.FailedTGAllocs, eval.BlockedEval)
			}
		})
	}
}

// TestPlacedAllocation checks every field the scheduler fills in.
func TestPlacedAllocation(t *testing.T) {
	node := nodeWith("n1", func(n *structs.Node) {
		n.Name = "node-one"
		n.NodeResources.Networks = []*structs.NetworkResource{{IP: "192.168.1.5"}}
	})
	job := withPorts(st.Job("web", 1), &structs.NetworkResource{
		Mode:          "host",
		ReservedPorts: []structs.Port{{Label: "admin", Value: 9000}},
		DynamicPorts:  []structs.Port{{Label: "http", To: 8080}, {Label: "raw", To: -1}},
	})
	h, job := setup(t, job, node)
	eval := process(t, h, job)

	allocs := h.State.LiveAllocs()
	if len(allocs) != 1 {
		t.Fatalf("%d allocations, want 1", len(allocs))
	}
	a := allocs[0]
	now := h.Now.UnixNano()
	if a.ID == "" || a.EvalID != eval.ID || a.Name != "web.web[0]" || a.NodeID != "n1" || a.NodeName != "node-one" ||
		a.JobID != "web" || a.Job == nil || a.Job.Version != job.Version || a.TaskGroup != "web" || a.Namespace != "default" ||
		a.DesiredStatus != structs.AllocDesiredStatusRun || a.ClientStatus != structs.AllocClientStatusPending ||
		a.CreateTime != now || a.ModifyTime != now || a.PreviousAllocation != "" {
		t.Errorf("allocation = %+v", a)
	}
	task := a.AllocatedResources.Tasks["app"]
	if task == nil || task.Cpu.CpuShares != 500 || task.Memory.MemoryMB != 256 {
		t.Errorf("task resources = %+v", task)
	}
	ports := map[string]structs.AllocatedPortMapping{}
	for _, p := range a.AllocatedResources.Shared.Ports {
		ports[p.Label] = p
		if p.HostIP != "192.168.1.5" {
			t.Errorf("port %s on %q, want the node's address", p.Label, p.HostIP)
		}
	}
	if p := ports["admin"]; p.Value != 9000 || p.To != 9000 {
		t.Errorf("admin = %+v", p)
	}
	if p := ports["http"]; p.Value < 20000 || p.Value > 32000 || p.To != 8080 {
		t.Errorf("http = %+v, want a dynamic port to 8080", p)
	}
	if p := ports["raw"]; p.Value < 20000 || p.Value > 32000 || p.To != p.Value {
		t.Errorf("raw = %+v, want a dynamic port to itself", p)
	}
	nets := a.AllocatedResources.Shared.Networks
	if len(nets) != 1 || nets[0].IP != "192.168.1.5" || len(nets[0].DynamicPorts) != 2 ||
		nets[0].DynamicPorts[0].Value != ports["http"].Value || nets[0].ReservedPorts[0].Value != 9000 {
		t.Errorf("networks = %+v", nets)
	}
	m := a.Metrics
	if m == nil || m.NodesEvaluated != 1 || m.NodesAvailable["dc1"] != 1 || m.NodesInPool != 1 || len(m.Scores) == 0 {
		t.Errorf("metrics = %+v", m)
	}
	if eval.QueuedAllocations["web"] != 0 || eval.StatusDescription == "" {
		t.Errorf("eval = %+v", eval)
	}
}

func TestDynamicPortsUniqueOnNode(t *testing.T) {
	// 16 allocations of two dynamic ports each on a range of 40 ports.
	node := nodeWith("n1", func(n *structs.Node) {
		n.NodeResources.MinDynamicPort, n.NodeResources.MaxDynamicPort = 25000, 25039
		n.NodeResources.Cpu.CpuShares = 100000
		n.NodeResources.Memory.MemoryMB = 100000
	})
	job := withPorts(st.Job("web", 16), &structs.NetworkResource{DynamicPorts: []structs.Port{{Label: "a"}, {Label: "b"}}})
	h, job := setup(t, job, node)
	process(t, h, job)

	seen := map[int]string{}
	for _, a := range h.State.LiveAllocs() {
		for _, p := range a.AllocatedResources.Shared.Ports {
			if p.Value < 25000 || p.Value > 25039 {
				t.Errorf("%s %s = %d, outside the node's range", a.Name, p.Label, p.Value)
			}
			if other, ok := seen[p.Value]; ok {
				t.Errorf("port %d given to %s and %s", p.Value, other, a.Name)
			}
			seen[p.Value] = a.Name
		}
	}
	if len(seen) != 32 {
		t.Errorf("%d ports assigned, want 32", len(seen))
	}

	// Scaling to 25 needs 50 ports: 20 fit, the rest are explained.
	job.TaskGroups[0].Count = 25
	job = h.State.UpsertJob(job)
	eval := process(t, h, job)
	m := eval.FailedTGAllocs["web"]
	if n := len(h.State.LiveAllocs()); n != 20 {
		t.Errorf("%d allocations, want 20", n)
	}
	if m == nil || m.DimensionExhausted["network: dynamic port selection failed"] != 1 || m.CoalescedFailures != 4 {
		t.Errorf("failure metric = %+v", m)
	}
}

func TestPortCollisionWithinPlan(t *testing.T) {
	job := withPorts(st.Job("web", 2), &structs.NetworkResource{ReservedPorts: []structs.Port{{Label: "http", Value: 8080}}})
	h, job := setup(t, job, st.Node("n1"))
	eval := process(t, h, job)

	if n := len(h.State.LiveAllocs()); n != 1 {
		t.Fatalf("%d allocations, want 1: a static port can be held once per node", n)
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.DimensionExhausted["network: reserved port collision 8080"] != 1 || m.NodesExhausted != 1 {
		t.Errorf("failure metric = %+v", m)
	}
	if eval.QueuedAllocations["web"] != 1 {
		t.Errorf("queued = %v, want web: 1", eval.QueuedAllocations)
	}
}

func TestExhaustionExplained(t *testing.T) {
	nodes := []*structs.Node{
		nodeWith("down", func(n *structs.Node) { n.Status = structs.NodeStatusDown }),
		nodeWith("draining", func(n *structs.Node) { n.Drain = true }),
		nodeWith("elsewhere", func(n *structs.Node) { n.Datacenter = "dc9" }),
		nodeWith("nodocker", func(n *structs.Node) { n.Drivers["docker"].Healthy = false }),
		nodeWith("otherpool", func(n *structs.Node) { n.NodePool = "gpu" }),
		nodeWith("smallcpu", func(n *structs.Node) { n.NodeResources.Cpu.CpuShares = 400 }),
		nodeWith("reserved", func(n *structs.Node) {
			n.ReservedResources = &structs.NodeReservedResources{Cpu: structs.NodeCpuResources{CpuShares: 3800}}
		}),
		nodeWith("smallmem", func(n *structs.Node) { n.NodeResources.Memory.MemoryMB = 200 }),
	}
	h, job := setup(t, st.Job("web", 3), nodes...)
	eval := process(t, h, job)

	if n := len(h.State.LiveAllocs()); n != 0 {
		t.Fatalf("%d allocations, want none", n)
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil {
		t.Fatal("no failure metric")
	}
	wantFiltered := map[string]int{"node not ready": 1, "node is draining": 1, "datacenter mismatch": 1, "missing drivers": 1, "node pool mismatch": 1}
	if !maps.Equal(m.ConstraintFiltered, wantFiltered) || m.NodesFiltered != 5 {
		t.Errorf("filtered %v (%d), want %v", m.ConstraintFiltered, m.NodesFiltered, wantFiltered)
	}
	wantExhausted := map[string]int{"cpu": 2, "memory": 1}
	if !maps.Equal(m.DimensionExhausted, wantExhausted) || m.NodesExhausted != 3 {
		t.Errorf("exhausted %v (%d), want %v", m.DimensionExhausted, m.NodesExhausted, wantExhausted)
	}
	if m.NodesEvaluated != 8 || m.CoalescedFailures != 2 || m.NodesInPool != 7 {
		t.Errorf("metric = %+v", m)
	}
	if eval.QueuedAllocations["web"] != 3 {
		t.Errorf("queued = %v", eval.QueuedAllocations)
	}

	created := h.CreatedEvals()
	if len(created) != 1 {
		t.Fatalf("%d evaluations created, want one blocked", len(created))
	}
	b := created[0]
	if b.Status != structs.EvalStatusBlocked || b.TriggeredBy != structs.EvalTriggerQueuedAllocs ||
		b.PreviousEval != eval.ID || b.JobID != job.ID || b.Type != job.Type || b.ID == "" || eval.BlockedEval != b.ID {
		t.Errorf("blocked eval = %+v (eval.BlockedEval %q)", b, eval.BlockedEval)
	}
	if len(h.Plans()) != 0 {
		t.Errorf("an empty plan was submitted")
	}

	// Capacity appears: the blocked evaluation places everything.
	h.State.UpsertNode(st.Node("big"))
	if err := h.Process(b); err != nil {
		t.Fatal(err)
	}
	if got := h.LastEval(); got.ID != b.ID || got.Status != structs.EvalStatusComplete || len(got.FailedTGAllocs) != 0 {
		t.Errorf("blocked eval after capacity = %+v", got)
	}
	if n := len(h.State.LiveAllocs()); n != 3 {
		t.Errorf("%d allocations, want 3", n)
	}
}

func TestCount(t *testing.T) {
	cases := []struct {
		name      string
		from, to  int
		wantNames []string
		wantStops []string
	}{
		{name: "up", from: 1, to: 3, wantNames: []string{"web.web[0]", "web.web[1]", "web.web[2]"}},
		{name: "down", from: 4, to: 2, wantNames: []string{"web.web[0]", "web.web[1]"},
			wantStops: []string{"web.web[2]", "web.web[3]"}},
		{name: "to zero", from: 2, to: 0, wantStops: []string{"web.web[0]", "web.web[1]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, job := setup(t, st.Job("web", tc.from), st.Node("n1"), st.Node("n2"))
			process(t, h, job)
			before := h.State.LiveAllocs()

			job.TaskGroups[0].Count = tc.to
			job = h.State.UpsertJob(job)
			process(t, h, job)

			var names []string
			for _, a := range h.State.LiveAllocs() {
				names = append(names, a.Name)
			}
			if !slices.Equal(names, tc.wantNames) {
				t.Errorf("live %v, want %v", names, tc.wantNames)
			}
			var stopped []string
			for _, a := range before {
				now := h.State.Alloc(a.ID)
				if now.DesiredStatus == structs.AllocDesiredStatusStop {
					if now.DesiredDescription != "alloc not needed due to job update" {
						t.Errorf("%s stopped with %q", now.Name, now.DesiredDescription)
					}
					stopped = append(stopped, now.Name)
				}
			}
			slices.Sort(stopped)
			if !slices.Equal(stopped, tc.wantStops) {
				t.Errorf("stopped %v, want %v", stopped, tc.wantStops)
			}
			// Allocations that stay are not touched.
			for _, a := range before {
				if slices.Contains(names, a.Name) && h.State.Alloc(a.ID).DesiredStatus != structs.AllocDesiredStatusRun {
					t.Errorf("%s should still run", a.Name)
				}
			}
		})
	}
}

func TestDestructiveUpdate(t *testing.T) {
	// One node and a static port: the replacement can only go where the
	// old allocation is, which the plan frees by stopping it.
	job := withPorts(st.Job("web", 2), &structs.NetworkResource{DynamicPorts: []structs.Port{{Label: "http"}}})
	job.TaskGroups[0].Update.MaxParallel = 2 // both in one pass
	h, job := setup(t, job, st.Node("n1"))
	process(t, h, job)
	old := h.State.LiveAllocs()

	job.TaskGroups[0].Tasks[0].Config["image"] = "busybox:2"
	job = h.State.UpsertJob(job)
	process(t, h, job)

	now := h.State.LiveAllocs()
	if len(now) != 2 {
		t.Fatalf("%d live allocations, want 2", len(now))
	}
	for i, a := range now {
		prev := h.State.Alloc(old[i].ID)
		if a.ID == prev.ID || a.PreviousAllocation != prev.ID || a.Name != prev.Name || a.Job.Version != job.Version {
			t.Errorf("%s: %+v does not replace %+v", a.Name, a, prev)
		}
		if prev.DesiredStatus != structs.AllocDesiredStatusStop || prev.DesiredDescription != "alloc is being updated due to job update" {
			t.Errorf("old %s: %s (%q)", prev.Name, prev.DesiredStatus, prev.DesiredDescription)
		}
	}

	// A change of count only replaces nothing.
	before := len(h.State.Allocs())
	job.TaskGroups[0].Count = 2
	job.Priority = 70
	job = h.State.UpsertJob(job)
	process(t, h, job)
	if after := len(h.State.Allocs()); after != before {
		t.Errorf("a non-destructive update placed %d allocations", after-before)
	}
}

func TestDestructiveUpdateWithoutRoomKeepsOld(t *testing.T) {
	h, job := setup(t, st.Job("web", 1), st.Node("n1"))
	process(t, h, job)
	old := h.State.LiveAllocs()[0]

	job.TaskGroups[0].Tasks[0].Resources.MemoryMB = 100000
	job = h.State.UpsertJob(job)
	eval := process(t, h, job)

	if a := h.State.Alloc(old.ID); a.DesiredStatus != structs.AllocDesiredStatusRun {
		t.Errorf("old allocation stopped though its replacement has no room: %q", a.DesiredDescription)
	}
	if eval.FailedTGAllocs["web"].DimensionExhausted["memory"] != 1 || eval.BlockedEval == "" {
		t.Errorf("eval = %+v", eval)
	}
}

func TestStopJob(t *testing.T) {
	cases := []struct {
		name string
		stop func(h *st.Harness, job *structs.Job)
		desc string
	}{
		{"stopped", func(h *st.Harness, job *structs.Job) { job.Stop = true; h.State.UpsertJob(job) },
			"alloc is being stopped because job was stopped"},
		{"purged", func(h *st.Harness, job *structs.Job) { h.State.DeleteJob(job.Namespace, job.ID) },
			"alloc not needed due to job update"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, job := setup(t, st.Job("web", 3), st.Node("n1"), st.Node("n2"))
			process(t, h, job)
			tc.stop(h, job)
			eval := process(t, h, job)

			if n := len(h.State.LiveAllocs()); n != 0 {
				t.Errorf("%d allocations still live", n)
			}
			for _, a := range h.State.Allocs() {
				if a.DesiredDescription != tc.desc {
					t.Errorf("%s stopped with %q, want %q", a.Name, a.DesiredDescription, tc.desc)
				}
			}
			if len(eval.FailedTGAllocs) != 0 || len(h.CreatedEvals()) != 0 {
				t.Errorf("stopping a job must not block: %+v", eval)
			}
		})
	}
}

func TestFailedAllocRescheduled(t *testing.T) {
	cases := []struct {
		name     string
		nodes    []string
		wantNode string
	}{
		{"avoids the node it failed on", []string{"n1", "n2"}, "n2"},
		{"uses that node when nothing else fits", []string{"n1"}, "n1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := st.NewHarness()
			for _, n := range tc.nodes {
				h.State.UpsertNode(st.Node(n))
			}
			job := h.State.UpsertJob(st.Job("web", 1))
			failed := st.Alloc(job, 0, st.Node("n1"))
			failed.ClientStatus = structs.AllocClientStatusFailed
			h.State.UpsertAllocs(failed)

			process(t, h, job)

			live := h.State.LiveAllocs()
			if len(live) != 1 {
				t.Fatalf("%d live allocations, want 1", len(live))
			}
			a := live[0]
			if a.NodeID != tc.wantNode || a.PreviousAllocation != failed.ID || a.Name != failed.Name {
				t.Errorf("replacement %s on %s replacing %q", a.Name, a.NodeID, a.PreviousAllocation)
			}
			old := h.State.Alloc(failed.ID)
			if old.DesiredStatus != structs.AllocDesiredStatusStop || old.DesiredDescription != "alloc was rescheduled because it failed" {
				t.Errorf("failed allocation: %s (%q)", old.DesiredStatus, old.DesiredDescription)
			}
		})
	}
}

func TestLostAllocReplaced(t *testing.T) {
	h, job := setup(t, st.Job("web", 2), st.Node("n1"), st.Node("n2"), st.Node("n3"))
	process(t, h, job)
	victim := h.State.LiveAllocs()[0]
	h.State.UpsertNode(nodeWith(victim.NodeID, func(n *structs.Node) { n.Status = structs.NodeStatusDown }))

	process(t, h, job)

	old := h.State.Alloc(victim.ID)
	if old.ClientStatus != structs.AllocClientStatusLost || old.DesiredStatus != structs.AllocDesiredStatusStop ||
		old.DesiredDescription != "alloc is lost since its node is down" {
		t.Errorf("lost allocation = %s/%s (%q)", old.DesiredStatus, old.ClientStatus, old.DesiredDescription)
	}
	got := placement(h)
	if len(got) != 2 || got[victim.Name] == victim.NodeID || got[victim.Name] == "" {
		t.Errorf("placement %v; %s was on the down node %s", got, victim.Name, victim.NodeID)
	}
}

func TestBatch(t *testing.T) {
	h, job := setup(t, st.BatchJob("report", 3), st.Node("n1"), st.Node("n2"))
	process(t, h, job)
	allocs := h.State.LiveAllocs()

	// One finishes, one fails.
	done, failed := allocs[0].Copy(), allocs[1].Copy()
	done.ClientStatus = structs.AllocClientStatusComplete
	failed.ClientStatus = structs.AllocClientStatusFailed
	h.State.UpsertAllocs(done, failed)
	h.Now = h.Now.Add(time.Minute) // past the batch reschedule delay (5s)
	process(t, h, job)

	if a := h.State.Alloc(done.ID); a.DesiredStatus != structs.AllocDesiredStatusRun {
		t.Errorf("complete batch allocation was stopped: %q", a.DesiredDescription)
	}
	var retry *structs.Allocation
	for _, a := range h.State.LiveAllocs() {
		if a.PreviousAllocation == failed.ID {
			retry = a
		}
		if a.Name == done.Name {
			t.Errorf("complete batch allocation %s was placed again", a.Name)
		}
	}
	if retry == nil || retry.Name != failed.Name {
		t.Fatalf("failed batch allocation was not rescheduled: %v", placement(h))
	}

	// The retry fails too: batch work is retried once, then left failed.
	retry.ClientStatus = structs.AllocClientStatusFailed
	h.State.UpsertAllocs(retry)
	before := len(h.State.Allocs())
	process(t, h, job)
	if after := len(h.State.Allocs()); after != before {
		t.Errorf("a twice-failed batch allocation was placed again")
	}
}

func TestIdempotent(t *testing.T) {
	cases := []struct {
		name  string
		job   *structs.Job
		nodes []*structs.Node
		// then changes the state between the first and the repeated runs'
		// setup, as a job update would.
		then func(h *st.Harness, job *structs.Job) *structs.Job
	}{
		{name: "placement", job: st.Job("web", 5), nodes: []*structs.Node{st.Node("n1"), st.Node("n2")}},
		{name: "destructive update", job: st.Job("web", 3), nodes: []*structs.Node{st.Node("n1")},
			then: func(h *st.Harness, job *structs.Job) *structs.Job {
				job.TaskGroups[0].Tasks[0].Env = map[string]string{"V": "2"}
				return h.State.UpsertJob(job)
			}},
		{name: "count down", job: st.Job("web", 4), nodes: []*structs.Node{st.Node("n1")},
			then: func(h *st.Harness, job *structs.Job) *structs.Job {
				job.TaskGroups[0].Count = 1
				return h.State.UpsertJob(job)
			}},
		{name: "stop", job: st.Job("web", 2), nodes: []*structs.Node{st.Node("n1")},
			then: func(h *st.Harness, job *structs.Job) *structs.Job {
				job.Stop = true
				return h.State.UpsertJob(job)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, job := setup(t, tc.job, tc.nodes...)
			if tc.then != nil {
				process(t, h, job)
				job = tc.then(h, job)
			}
			eval := h.NewEval(job, structs.EvalTriggerJobRegister)
			if err := h.Process(eval); err != nil {
				t.Fatal(err)
			}
			plans, allocs := len(h.Plans()), h.State.Allocs()

			// The broker delivers the same evaluation again.
			if err := h.Process(eval); err != nil {
				t.Fatal(err)
			}
			if n := len(h.Plans()); n != plans {
				t.Errorf("second run submitted %d plans: %+v", n-plans, h.Plans()[plans:])
			}
			again := h.State.Allocs()
			if len(again) != len(allocs) {
				t.Errorf("second run changed the allocations: %d then %d", len(allocs), len(again))
			}
			if got := h.LastEval(); got.Status != structs.EvalStatusComplete {
				t.Errorf("second run: %+v", got)
			}
		})
	}
}

func TestPartialCommitRetried(t *testing.T) {
	h, job := setup(t, st.Job("web", 2), st.Node("n1"), st.Node("n2"), st.Node("n3"))
	// The first plan loses a node to a concurrent plan that fills it.
	rejected := ""
	h.Reject = func(plan *structs.Plan) []string {
		if rejected != "" {
			return nil
		}
		for nodeID := range plan.NodeAllocation {
			rejected = nodeID
			filler := h.State.UpsertJob(st.Job("filler", 1))
			a := st.Alloc(filler, 0, st.Node(nodeID))
			a.AllocatedResources.Tasks["app"].Memory.MemoryMB = 8192
			h.State.UpsertAllocs(a)
			return []string{nodeID}
		}
		return nil
	}
	eval := process(t, h, job)

	if n := len(h.Plans()); n != 2 {
		t.Fatalf("%d plans submitted, want 2", n)
	}
	if n := len(h.Plans()[1].NodeAllocation[rejected]); n != 0 {
		t.Errorf("the retry placed %d on the node that filled up", n)
	}
	got := placement(h)
	if got["web.web[0]"] == "" || got["web.web[1]"] == "" || got["web.web[0]"] == rejected || got["web.web[1]"] == rejected {
		t.Errorf("placement %v (node %s was taken)", got, rejected)
	}
	if len(eval.FailedTGAllocs) != 0 {
		t.Errorf("failures after retry: %v", eval.FailedTGAllocs)
	}
}

func TestPartialCommitGivesUp(t *testing.T) {
	h, job := setup(t, st.Job("web", 1), st.Node("n1"))
	h.Reject = func(plan *structs.Plan) []string { return slices.Collect(maps.Keys(plan.NodeAllocation)) }
	eval := h.NewEval(job, structs.EvalTriggerJobRegister)
	if err := h.Process(eval); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Plans()); n != 5 {
		t.Errorf("%d plans submitted, want 5 attempts", n)
	}
	if got := h.LastEval(); got.Status != structs.EvalStatusFailed {
		t.Errorf("eval = %+v, want failed", got)
	}
}

func TestUnsupportedJobType(t *testing.T) {
	for _, typ := range []string{"cron", ""} {
		h := st.NewHarness()
		err := h.Process(&structs.Evaluation{ID: "e", Type: typ, JobID: "j", Namespace: "default"})
		if !errors.Is(err, scheduler.ErrUnsupportedJobType) {
			t.Errorf("%s: err = %v", typ, err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	// The same evaluation on the same state picks the same nodes and ports.
	run := func() map[string]string {
		h := st.NewHarness()
		for i := range 20 {
			h.State.UpsertNode(st.Node(fmt.Sprintf("n%02d", i)))
		}
		job := h.State.UpsertJob(withPorts(st.Job("web", 10), &structs.NetworkResource{DynamicPorts: []structs.Port{{Label: "http"}}}))
		process(t, h, job)
		out := map[string]string{}
		for _, a := range h.State.LiveAllocs() {
			out[a.Name] = fmt.Sprintf("%s:%d", a.NodeID, a.AllocatedResources.Shared.Ports[0].Value)
		}
		return out
	}
	first, second := run(), run()
	if !maps.Equal(first, second) {
		t.Errorf("runs differ:\n%v\n%v", first, second)
	}
}

func BenchmarkPlace(b *testing.B) {
	h := st.NewHarness()
	for i := range 1000 {
		h.State.UpsertNode(st.Node(fmt.Sprintf("node-%04d", i)))
	}
	job := h.State.UpsertJob(withPorts(st.Job("web", 100), &structs.NetworkResource{DynamicPorts: []structs.Port{{Label: "http"}}}))
	// The planner accepts every plan without committing it, so each
	// iteration places all 100 allocations again.
	p := &discardPlanner{}
	clock := func() time.Time { return h.Now }
	b.ReportAllocs()
	for b.Loop() {
		eval := h.NewEval(job, structs.EvalTriggerJobRegister)
		if err := scheduler.New(nil, h.State, p, clock).Process(eval); err != nil {
			b.Fatal(err)
		}
	}
	if p.placed != 100*p.plans {
		b.Fatalf("placed %d in %d plans, want 100 each", p.placed, p.plans)
	}
}

type discardPlanner struct{ plans, placed int }

func (p *discardPlanner) SubmitPlan(plan *structs.Plan) (*structs.PlanResult, scheduler.State, error) {
	p.plans++
	for _, allocs := range plan.NodeAllocation {
		p.placed += len(allocs)
	}
	return &structs.PlanResult{NodeUpdate: plan.NodeUpdate, NodeAllocation: plan.NodeAllocation}, nil, nil
}

func (p *discardPlanner) UpdateEval(*structs.Evaluation) error { return nil }
func (p *discardPlanner) CreateEval(*structs.Evaluation) error { return nil }
