package scheduler

import (
	"strconv"

	"github.com/drover-project/drover/structs"
)

// jobAllocs tracks where the live allocations of the job being planned
// are, counting those in state that the plan does not stop and those the
// plan places. distinct_hosts, distinct_property and spread read it.
type jobAllocs struct {
	nodes   map[string]*structs.Node
	byNode  map[string]map[string]int // node ID → group → allocations
	stopped map[string]bool
	// values caches allocation counts per value of a node target, for one
	// group or ("" group) the whole job; kept current as the plan grows.
	values map[valuesKey]map[string]int
}

type valuesKey struct{ target, group string }

func newJobAllocs(allocs []*structs.Allocation, nodes []*structs.Node) *jobAllocs {
	j := &jobAllocs{nodes: make(map[string]*structs.Node, len(nodes)), byNode: map[string]map[string]int{},
		stopped: map[string]bool{}, values: map[valuesKey]map[string]int{}}
	for _, n := range nodes {
		j.nodes[n.ID] = n
	}
	for _, a := range allocs {
		if !a.Terminal() {
			j.add(a, +1)
		}
	}
	return j
}

// stop, unstop and place follow the plan as usageTracker's do.
func (j *jobAllocs) stop(a *structs.Allocation) {
	if !j.stopped[a.ID] && !a.Terminal() {
		j.stopped[a.ID] = true
		j.add(a, -1)
	}
}

func (j *jobAllocs) unstop(a *structs.Allocation) {
	if j.stopped[a.ID] {
		delete(j.stopped, a.ID)
		j.add(a, +1)
	}
}

func (j *jobAllocs) place(a *structs.Allocation) { j.add(a, +1) }

func (j *jobAllocs) add(a *structs.Allocation, sign int) {
	groups := j.byNode[a.NodeID]
	if groups == nil {
		groups = map[string]int{}
		j.byNode[a.NodeID] = groups
	}
	groups[a.TaskGroup] += sign
	n := j.nodes[a.NodeID]
	if n == nil {
		return
	}
	for key, counts := range j.values {
		if key.group != "" && key.group != a.TaskGroup {
			continue
		}
		if v, ok := resolveTarget(key.target, n); ok {
			counts[v] += sign
		}
	}
}

// onNode counts the allocations of group ("" for any group) on the node.
func (j *jobAllocs) onNode(nodeID, group string) int {
	groups := j.byNode[nodeID]
	if group != "" {
		return groups[group]
	}
	n := 0
	for _, c := range groups {
		n += c
	}
	return n
}

// countsByValue counts the allocations of group ("" for any group) per
// value the target takes on their nodes. The map is live: do not change it.
func (j *jobAllocs) countsByValue(target, group string) map[string]int {
	key := valuesKey{target, group}
	if counts, ok := j.values[key]; ok {
		return counts
	}
	counts := map[string]int{}
	for nodeID, groups := range j.byNode {
		n := j.nodes[nodeID]
		if n == nil {
			continue
		}
		v, ok := resolveTarget(target, n)
		if !ok {
			continue
		}
		if group == "" {
			for _, c := range groups {
				counts[v] += c
			}
		} else {
			counts[v] += groups[group]
		}
	}
	j.values[key] = counts
	return counts
}

// distinctRule is a distinct_hosts or distinct_property constraint, with
// the group it applies to ("" when set on the job: all groups count).
type distinctRule struct {
	con   *structs.Constraint
	group string
	limit int
}

// distinctRules collects the group's distinct_* constraints.
func distinctRules(job *structs.Job, tg *structs.TaskGroup) []distinctRule {
	var out []distinctRule
	add := func(cons []*structs.Constraint, group string) {
		for _, c := range cons {
			switch c.Operand {
			case structs.ConstraintDistinctHosts:
				if c.RTarget == "" || c.RTarget == "true" {
					out = append(out, distinctRule{con: c, group: group, limit: 1})
				}
			case structs.ConstraintDistinctProperty:
				limit := 1
				if n, err := strconv.Atoi(c.RTarget); err == nil && n > 0 {
					limit = n
				}
				out = append(out, distinctRule{con: c, group: group, limit: limit})
			}
		}
	}
	add(job.Constraints, "")
	add(tg.Constraints, tg.Name)
	for _, t := range tg.Tasks {
		add(t.Constraints, tg.Name)
	}
	return out
}

// distinctReason says which distinct rule the node breaks, or "".
func distinctReason(rules []distinctRule, allocs *jobAllocs, n *structs.Node) string {
	for _, r := range rules {
		if r.con.Operand == structs.ConstraintDistinctHosts {
			if allocs.onNode(n.ID, r.group) >= r.limit {
				return r.con.String()
			}
			continue
		}
		v, ok := resolveTarget(r.con.LTarget, n)
		if !ok {
			return r.con.String()
		}
		if allocs.countsByValue(r.con.LTarget, r.group)[v] >= r.limit {
			return r.con.String()
		}
	}
	return ""
}
