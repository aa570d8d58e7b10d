package scheduler

import (
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
	var ok []*structs.Node
	for _, n := range nodes {
		inPool := poolMatches(job.NodePool, n.NodePool)
		if inPool {
			m.NodesInPool++
		}
		if n.Ready() && inPool && datacenterMatches(job.Datacenters, n.Datacenter) {
			m.NodesAvailable[n.Datacenter]++
		}
		if reason := filterReason(job, tg, n, inPool); reason != "" {
			// Feasible nodes count as evaluated when a placement looks at them.
			m.NodesEvaluated++
			m.FilterNode(n.NodeClass, reason)
			continue
		}
		ok = append(ok, n)
	}
	return ok, m
}

// filterReason says why the node can never run the group, or "".
func filterReason(job *structs.Job, tg *structs.TaskGroup, n *structs.Node, inPool bool) string {
	switch {
	case !n.Ready():
		return reasonNotReady
	case !inPool:
		return reasonNodePool
	case !datacenterMatches(job.Datacenters, n.Datacenter):
		return reasonDatacenter
	}
	for _, t := range tg.Tasks {
		if !n.DriverHealthy(t.Driver) {
			return reasonDrivers
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
