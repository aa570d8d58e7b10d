package scheduler_test

import (
	"fmt"
	"maps"
	"testing"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

func withKernel(id, kernel string) *structs.Node {
	return nodeWith(id, func(n *structs.Node) { n.Attributes["kernel.name"] = kernel })
}

func TestConstraintLevels(t *testing.T) {
	con := &structs.Constraint{LTarget: "${attr.kernel.name}", RTarget: "windows", Operand: "="}
	levels := map[string]func(j *structs.Job){
		"job":   func(j *structs.Job) { j.Constraints = append(j.Constraints, con) },
		"group": func(j *structs.Job) { j.TaskGroups[0].Constraints = append(j.TaskGroups[0].Constraints, con) },
		"task": func(j *structs.Job) {
			j.TaskGroups[0].Tasks[0].Constraints = append(j.TaskGroups[0].Tasks[0].Constraints, con)
		},
	}
	for level, apply := range levels {
		t.Run(level, func(t *testing.T) {
			job := st.Job("web", 2)
			apply(job)
			job.Canonicalize()
			h, job := setup(t, job, withKernel("l1", "linux"), withKernel("l2", "linux"), withKernel("w1", "windows"))
			process(t, h, job)
			for name, node := range placement(h) {
				if node != "w1" {
					t.Errorf("%s placed on %s, want w1", name, node)
				}
			}
			if n := len(h.State.LiveAllocs()); n != 2 {
				t.Errorf("%d allocations, want 2", n)
			}
		})
	}
}

// TestConstraintFailureExplained: a constraint that no node meets explains
// itself with the count of nodes it excluded.
func TestConstraintFailureExplained(t *testing.T) {
	job := st.Job("web", 1)
	job.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "windows", Operand: "="}}
	job.Canonicalize()
	h, job := setup(t, job, withKernel("l1", "linux"), withKernel("l2", "linux"))
	eval := process(t, h, job)
	m := eval.FailedTGAllocs["web"]
	if m == nil {
		t.Fatal("no failure metric")
	}
	want := map[string]int{"${attr.kernel.name} = windows": 2}
	if !maps.Equal(m.ConstraintFiltered, want) || m.NodesFiltered != 2 {
		t.Errorf("ConstraintFiltered = %v (%d filtered), want %v", m.ConstraintFiltered, m.NodesFiltered, want)
	}
	if eval.BlockedEval == "" {
		t.Error("no blocked evaluation")
	}
}

func TestDistinctHosts(t *testing.T) {
	job := st.Job("web", 3)
	job.Constraints = []*structs.Constraint{{Operand: structs.ConstraintDistinctHosts}}
	job.Canonicalize()
	h, job := setup(t, job, st.Node("a"), st.Node("b"))
	eval := process(t, h, job)
	used := map[string]int{}
	for _, node := range placement(h) {
		used[node]++
	}
	if len(used) != 2 || used["a"] != 1 || used["b"] != 1 {
		t.Errorf("placement per node = %v, want one on each of a and b", used)
	}
	m := eval.FailedTGAllocs["web"]
	if m == nil || m.ConstraintFiltered["distinct_hosts"] != 2 {
		t.Errorf("failure metric = %+v, want distinct_hosts filtering both nodes", m)
	}
}

// TestDistinctHostsAcrossGroups: at job level, two groups never share a node.
func TestDistinctHostsAcrossGroups(t *testing.T) {
	job := st.Job("web", 1)
	second := job.TaskGroups[0].Copy()
	second.Name = "api"
	job.TaskGroups = append(job.TaskGroups, second)
	job.Constraints = []*structs.Constraint{{Operand: structs.ConstraintDistinctHosts}}
	job.Canonicalize()
	h, job := setup(t, job, st.Node("a"), st.Node("b"))
	process(t, h, job)
	p := placement(h)
	if len(p) != 2 || p["web.web[0]"] == p["web.api[0]"] {
		t.Errorf("placement = %v, want the groups on different nodes", p)
	}
}

func TestDistinctProperty(t *testing.T) {
	var nodes []*structs.Node
	for i := range 6 {
		nodes = append(nodes, nodeWith(fmt.Sprintf("n%d", i), func(n *structs.Node) {
			n.Meta = map[string]string{"rack": fmt.Sprintf("r%d", i%3)}
		}))
	}
	job := st.Job("web", 7)
	job.TaskGroups[0].Constraints = []*structs.Constraint{{LTarget: "${meta.rack}", RTarget: "2", Operand: structs.ConstraintDistinctProperty}}
	job.Canonicalize()
	h, job := setup(t, job, nodes...)
	eval := process(t, h, job)
	perRack := map[string]int{}
	for _, a := range h.State.LiveAllocs() {
		n, _ := h.State.NodeByID(a.NodeID)
		perRack[n.Meta["rack"]]++
	}
	if !maps.Equal(perRack, map[string]int{"r0": 2, "r1": 2, "r2": 2}) {
		t.Errorf("allocations per rack = %v, want 2 on each", perRack)
	}
	if eval.QueuedAllocations["web"] != 1 {
		t.Errorf("queued = %v, want 1", eval.QueuedAllocations)
	}
}

func TestAffinity(t *testing.T) {
	job := st.Job("web", 4)
	job.TaskGroups[0].Affinities = []*structs.Affinity{{LTarget: "${node.class}", RTarget: "fast", Operand: "=", Weight: 100}}
	job.Canonicalize()
	var nodes []*structs.Node
	for i := range 10 {
		nodes = append(nodes, st.Node(fmt.Sprintf("slow%d", i)))
	}
	nodes = append(nodes, nodeWith("fast0", func(n *structs.Node) { n.NodeClass = "fast" }),
		nodeWith("fast1", func(n *structs.Node) { n.NodeClass = "fast" }))
	h, job := setup(t, job, nodes...)
	process(t, h, job)
	for name, node := range placement(h) {
		if node != "fast0" && node != "fast1" {
			t.Errorf("%s placed on %s, want a fast node", name, node)
		}
	}
}

func TestNegativeAffinity(t *testing.T) {
	job := st.Job("web", 3)
	job.Affinities = []*structs.Affinity{{LTarget: "${meta.spot}", RTarget: "true", Operand: "=", Weight: -100}}
	job.Canonicalize()
	spot := func(id string) *structs.Node {
		return nodeWith(id, func(n *structs.Node) { n.Meta = map[string]string{"spot": "true"} })
	}
	h, job := setup(t, job, spot("s0"), spot("s1"), spot("s2"), st.Node("o0"), st.Node("o1"), st.Node("o2"))
	process(t, h, job)
	for name, node := range placement(h) {
		if node[0] != 'o' {
			t.Errorf("%s placed on spot node %s", name, node)
		}
	}
}

func TestSpreadEven(t *testing.T) {
	var nodes []*structs.Node
	for i := range 9 {
		nodes = append(nodes, nodeWith(fmt.Sprintf("n%d", i), func(n *structs.Node) {
			n.Datacenter = fmt.Sprintf("dc%d", i%3)
		}))
	}
	job := st.Job("web", 9)
	job.Datacenters = []string{"*"}
	job.TaskGroups[0].Spreads = []*structs.Spread{{Attribute: "${node.datacenter}", Weight: 100}}
	job.Canonicalize()
	h, job := setup(t, job, nodes...)
	process(t, h, job)
	perDC := map[string]int{}
	for _, a := range h.State.LiveAllocs() {
		n, _ := h.State.NodeByID(a.NodeID)
		perDC[n.Datacenter]++
	}
	if !maps.Equal(perDC, map[string]int{"dc0": 3, "dc1": 3, "dc2": 3}) {
		t.Errorf("allocations per datacenter = %v, want 3 each", perDC)
	}
}

func TestSpreadTargets(t *testing.T) {
	var nodes []*structs.Node
	for i := range 10 {
		nodes = append(nodes, nodeWith(fmt.Sprintf("n%d", i), func(n *structs.Node) {
			n.Meta = map[string]string{"zone": fmt.Sprintf("z%d", i%2)}
		}))
	}
	job := st.Job("web", 10)
	job.TaskGroups[0].Spreads = []*structs.Spread{{Attribute: "${meta.zone}", Weight: 100,
		SpreadTarget: []*structs.SpreadTarget{{Value: "z0", Percent: 80}, {Value: "z1", Percent: 20}}}}
	job.Canonicalize()
	h, job := setup(t, job, nodes...)
	process(t, h, job)
	perZone := map[string]int{}
	for _, a := range h.State.LiveAllocs() {
		n, _ := h.State.NodeByID(a.NodeID)
		perZone[n.Meta["zone"]]++
	}
	if !maps.Equal(perZone, map[string]int{"z0": 8, "z1": 2}) {
		t.Errorf("allocations per zone = %v, want z0: 8, z1: 2", perZone)
	}
}

// TestSpreadAlgorithm: with the spread algorithm, allocations go to the
// emptiest nodes instead of filling one up.
func TestSpreadAlgorithm(t *testing.T) {
	busy := st.Node("busy")
	other := st.Job("other", 1)
	other.TaskGroups[0].Tasks[0].Resources = &structs.Resources{CPU: 2000, MemoryMB: 4096}
	for _, algo := range []string{structs.SchedulerAlgorithmBinpack, structs.SchedulerAlgorithmSpread} {
		t.Run(algo, func(t *testing.T) {
			h, job := setup(t, st.Job("web", 1), busy, st.Node("empty"))
			h.State.UpsertJob(other)
			h.State.UpsertAllocs(st.Alloc(other, 0, busy))
			h.State.SetSchedulerConfig(&structs.SchedulerConfiguration{SchedulerAlgorithm: algo})
			process(t, h, job)
			want := map[string]string{structs.SchedulerAlgorithmBinpack: "busy", structs.SchedulerAlgorithmSpread: "empty"}[algo]
			if got := placement(h)["web.web[0]"]; got != want {
				t.Errorf("placed on %s, want %s", got, want)
			}
		})
	}
}

func TestMemoryOversubscription(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		job := st.Job("web", 1)
		job.TaskGroups[0].Tasks[0].Resources.MemoryMaxMB = 1024
		h, job := setup(t, job, st.Node("a"))
		h.State.SetSchedulerConfig(&structs.SchedulerConfiguration{SchedulerAlgorithm: "binpack", MemoryOversubscriptionEnabled: enabled})
		process(t, h, job)
		got := h.State.LiveAllocs()[0].AllocatedResources.Tasks["app"].Memory.MemoryMaxMB
		if want := map[bool]int64{false: 0, true: 1024}[enabled]; got != want {
			t.Errorf("oversubscription %v: MemoryMaxMB %d, want %d", enabled, got, want)
		}
	}
}
