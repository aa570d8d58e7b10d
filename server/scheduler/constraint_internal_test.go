package scheduler

import (
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestMatcher(t *testing.T) {
	n := &structs.Node{
		ID: "node-1", Name: "web-1", Datacenter: "dc1", NodeClass: "large", NodePool: "gpu",
		Attributes: map[string]string{
			"kernel.name": "linux", "cpu.numcores": "8", "os.version": "22.04",
			"driver.docker.version": "24.0.7", "unique.hostname": "web-1", "tags": "a, b,c",
		},
		Meta: map[string]string{"rack": "r1"},
	}
	cases := []struct {
		l, op, r string
		want     bool
	}{
		{"${attr.kernel.name}", "=", "linux", true},
		{"${attr.kernel.name}", "==", "linux", true},
		{"${attr.kernel.name}", "=", "windows", false},
		{"${attr.kernel.name}", "!=", "windows", true},
		{"${attr.missing}", "!=", "windows", true},
		{"${attr.missing}", "=", "", false},
		{"${attr.cpu.numcores}", ">", "4", true},
		{"${attr.cpu.numcores}", ">", "10", false}, // numeric, not lexical
		{"${attr.cpu.numcores}", ">=", "8", true},
		{"${attr.cpu.numcores}", "<", "16", true},
		{"${attr.cpu.numcores}", "<=", "7", false},
		{"${attr.os.version}", ">", "20.10", true}, // as floats
		{"${attr.kernel.name}", "<", "mac", true},  // as strings
		{"${attr.kernel.name}", "regexp", "^lin", true},
		{"${attr.kernel.name}", "regexp", "^win", false},
		{"${attr.driver.docker.version}", "version", ">= 20.10, < 25", true},
		{"${attr.driver.docker.version}", "version", "< 24", false},
		{"${attr.driver.docker.version}", "semver", "~> 24.0", true},
		{"${attr.kernel.name}", "semver", ">= 1.0.0", false}, // not a version
		{"${attr.tags}", "set_contains", "a,c", true},
		{"${attr.tags}", "set_contains_all", "a,d", false},
		{"${attr.tags}", "set_contains_any", "d,b", true},
		{"${attr.tags}", "set_contains_any", "d,e", false},
		{"${attr.kernel.name}", "is_set", "", true},
		{"${attr.nope}", "is_set", "", false},
		{"${attr.nope}", "is_not_set", "", true},
		{"${node.unique.id}", "=", "node-1", true},
		{"${node.unique.name}", "=", "web-1", true},
		{"${node.datacenter}", "=", "dc1", true},
		{"${node.class}", "=", "large", true},
		{"${node.pool}", "=", "gpu", true},
		{"${meta.rack}", "=", "r1", true},
		{"${meta.rack}", "=", "${meta.rack}", true},
		{"${attr.unique.hostname}", "=", "${node.unique.name}", true},
		{"${meta.nope}", "=", "r1", false},
	}
	m := newMatcher()
	for _, c := range cases {
		if got := m.matches(c.l, c.op, c.r, n); got != c.want {
			t.Errorf("%s %s %s = %v, want %v", c.l, c.op, c.r, got, c.want)
		}
	}
}

func TestComputedClassIgnoresUniqueAttributes(t *testing.T) {
	a := &structs.Node{ID: "a", Datacenter: "dc1", Attributes: map[string]string{"kernel.name": "linux", "unique.hostname": "a"}}
	b := &structs.Node{ID: "b", Datacenter: "dc1", Attributes: map[string]string{"kernel.name": "linux", "unique.hostname": "b"}}
	c := &structs.Node{ID: "c", Datacenter: "dc1", Attributes: map[string]string{"kernel.name": "windows", "unique.hostname": "c"}}
	if a.ComputeClass() != b.ComputeClass() {
		t.Error("nodes differing only in unique attributes have different classes")
	}
	if a.ComputeClass() == c.ComputeClass() {
		t.Error("nodes with different kernels share a class")
	}
}

// TestFeasibilityCachedPerClass checks that a node's class decides class
// constraints once, while unique constraints are checked per node.
func TestFeasibilityCachedPerClass(t *testing.T) {
	job := &structs.Job{ID: "j", Datacenters: []string{"*"}, NodePool: "default",
		Constraints: []*structs.Constraint{
			{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="},
			{LTarget: "${node.unique.name}", RTarget: "n2", Operand: "!="},
		}}
	tg := &structs.TaskGroup{Name: "g", Tasks: []*structs.Task{{Name: "t", Driver: "docker"}}}
	var nodes []*structs.Node
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, &structs.Node{ID: name, Name: name, Datacenter: "dc1", Status: structs.NodeStatusReady,
			Attributes: map[string]string{"kernel.name": "linux"},
			Drivers:    map[string]*structs.DriverInfo{"docker": {Detected: true, Healthy: true}}})
	}
	check := newStaticChecker(job, tg)
	var feasible []string
	for _, n := range nodes {
		if check.filterReason(n, true) == "" {
			feasible = append(feasible, n.ID)
		}
	}
	if len(check.byClass) != 1 {
		t.Errorf("%d classes checked, want 1", len(check.byClass))
	}
	if len(feasible) != 2 || feasible[0] != "n1" || feasible[1] != "n3" {
		t.Errorf("feasible = %v, want [n1 n3]", feasible)
	}
}
