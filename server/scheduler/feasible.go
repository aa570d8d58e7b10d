package scheduler

import (
	"slices"
	"strings"

	"github.com/drover-project/drover/structs"
)

// Why a node can never run a group, as counted in AllocMetric.ConstraintFiltered.
const (
	reasonNotReady   = "node not ready"
	reasonNodePool   = "node pool mismatch"
	reasonDatacenter = "datacenter mismatch"
	reasonDrivers    = "missing drivers"
)

// allNodePools is the node pool that matches every node.
const allNodePools = "all"

// feasibleNodes keeps the nodes that could run the group if it had room,
// in the order given. The metric it returns counts why the others cannot,
// and is the starting point of every placement's metric for the group.
func feasibleNodes(job *structs.Job, tg *structs.TaskGroup, nodes []*structs.Node) ([]*structs.Node, *structs.AllocMetric) {
	m := &structs.AllocMetric{NodesAvailable: map[string]int{}}
	check := newStaticChecker(job, tg)
	var ok []*structs.Node
	for _, n := range nodes {
		inPool := poolMatches(job.NodePool, n.NodePool)
		if inPool {
			m.NodesInPool++
		}
		if n.Ready() && inPool && datacenterMatches(job.Datacenters, n.Datacenter) {
			m.NodesAvailable[n.Datacenter]++
		}
		if reason := check.filterReason(n, inPool); reason != "" {
			// Feasible nodes count as evaluated when a placement looks at them.
			m.NodesEvaluated++
			m.FilterNode(n.NodeClass, reason)
			continue
		}
		ok = append(ok, n)
	}
	return ok, m
}

// staticChecker decides whether a node could ever run a group, from the
// node alone. What the node shares with the other nodes of its computed
// class (drivers, attributes, metadata, datacenter) is checked once per
// class; constraints on unique attributes are checked per node.
type staticChecker struct {
	job     *structs.Job
	drivers []string
	// perClass are the constraints whose answer the node's class decides;
	// perNode are those that read a unique attribute.
	perClass, perNode []*structs.Constraint
	byClass           map[string]string
	match             *matcher
	// volumes are the group's volume requests (volumes.go).
	volumes map[string]*structs.VolumeRequest
}

func newStaticChecker(job *structs.Job, tg *structs.TaskGroup) *staticChecker {
	c := &staticChecker{job: job, byClass: map[string]string{}, match: newMatcher(), volumes: tg.Volumes}
	for _, con := range groupConstraints(job, tg) {
		switch con.Operand {
		case structs.ConstraintDistinctHosts, structs.ConstraintDistinctProperty:
			continue // they depend on allocations: see distinctChecker
		}
		if targetIsUnique(con.LTarget) || targetIsUnique(con.RTarget) {
			c.perNode = append(c.perNode, con)
		} else {
			c.perClass = append(c.perClass, con)
		}
	}
	for _, t := range tg.Tasks {
		if !slices.Contains(c.drivers, t.Driver) {
			c.drivers = append(c.drivers, t.Driver)
		}
	}
	return c
}

// groupConstraints are the job's, the group's and its tasks' constraints:
// a node must satisfy all of them to run the group.
func groupConstraints(job *structs.Job, tg *structs.TaskGroup) []*structs.Constraint {
	out := slices.Clone(job.Constraints)
	out = append(out, tg.Constraints...)
	for _, t := range tg.Tasks {
		out = append(out, t.Constraints...)
	}
	return out
}

// filterReason says why the node can never run the group, or "".
func (c *staticChecker) filterReason(n *structs.Node, inPool bool) string {
	switch {
	case !n.Ready():
		return notReadyReason(n) // drain.go
	case !inPool:
		return reasonNodePool
	case !datacenterMatches(c.job.Datacenters, n.Datacenter):
		return reasonDatacenter
	}
	class := n.ComputedClass
	if class == "" {
		class = n.ComputeClass()
	}
	reason, ok := c.byClass[class]
	if !ok {
		reason = c.classReason(n)
		c.byClass[class] = reason
	}
	if reason != "" {
		return reason
	}
	for _, con := range c.perNode {
		if !c.match.matches(con.LTarget, con.Operand, con.RTarget, n) {
			return con.String()
		}
	}
	if reason := missingHostVolume(c.volumes, n); reason != "" {
		return reason
	}
	return ""
}

// classReason checks what every node of n's computed class shares.
func (c *staticChecker) classReason(n *structs.Node) string {
	for _, d := range c.drivers {
		if !n.DriverHealthy(d) {
			return reasonDrivers
		}
	}
	for _, con := range c.perClass {
		if !c.match.matches(con.LTarget, con.Operand, con.RTarget, n) {
			return con.String()
		}
	}
	return ""
}

func poolMatches(jobPool, nodePool string) bool {
	if jobPool == allNodePools {
		return true
	}
	return orDefault(jobPool) == orDefault(nodePool)
}

func orDefault(pool string) string {
	if pool == "" {
		return "default"
	}
	return pool
}

// datacenterMatches reports whether dc matches one of the job's
// datacenters, each of which may hold "*" wildcards ("us-*", "*").
func datacenterMatches(patterns []string, dc string) bool {
	if len(patterns) == 0 {
		return true // a job that names none runs anywhere, as Canonicalize's "*"
	}
	for _, p := range patterns {
		if globMatch(p, dc) {
			return true
		}
	}
	return false
}

// globMatch matches s against pattern where "*" stands for any run of
// characters (including "/" and none) and every other character is literal.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
