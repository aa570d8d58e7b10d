package scheduler

import (
	"slices"

	"github.com/drover-project/drover/structs"
)

// affinityScorer rates nodes by the group's affinities (job, group and
// task level): the weights of those the node matches, over the sum of all
// weights' magnitudes, so the score is in [-1, 1].
type affinityScorer struct {
	affinities []*structs.Affinity
	total      float64
	match      *matcher
}

func newAffinityScorer(job *structs.Job, tg *structs.TaskGroup, m *matcher) *affinityScorer {
	s := &affinityScorer{match: m}
	s.affinities = append(slices.Clone(job.Affinities), tg.Affinities...)
	for _, t := range tg.Tasks {
		s.affinities = append(s.affinities, t.Affinities...)
	}
	for _, a := range s.affinities {
		s.total += float64(abs(int(a.Weight)))
	}
	return s
}

// score returns the node's score and whether affinities apply at all.
func (s *affinityScorer) score(n *structs.Node) (float64, bool) {
	if len(s.affinities) == 0 || s.total == 0 {
		return 0, false
	}
	sum := 0.0
	for _, a := range s.affinities {
		if s.match.matches(a.LTarget, a.Operand, a.RTarget, n) {
			sum += float64(a.Weight)
		}
	}
	return sum / s.total, true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// spreadScorer rates nodes by how placing there moves the group's
// allocations toward the spreads' goals: evenly over the attribute's
// values, or in the targets' percentages. Values below their share score
// up to 1, values at or above it down to -1; each spread counts in
// proportion to its weight.
type spreadScorer struct {
	spreads []*structs.Spread
	total   float64
	group   *structs.TaskGroup
	allocs  *jobAllocs
	// values are the attribute's values among the feasible nodes, per
	// spread, so an even spread knows the values nothing runs on yet.
	values [][]string
}

func newSpreadScorer(job *structs.Job, tg *structs.TaskGroup, allocs *jobAllocs, feasible []*structs.Node) *spreadScorer {
	s := &spreadScorer{group: tg, allocs: allocs}
	s.spreads = append(slices.Clone(job.Spreads), tg.Spreads...)
	for _, sp := range s.spreads {
		s.total += float64(sp.Weight)
		seen := map[string]bool{}
		var vals []string
		for _, n := range feasible {
			if v, ok := resolveTarget(sp.Attribute, n); ok && !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
		s.values = append(s.values, vals)
	}
	return s
}

// score returns the node's score and whether spreads apply at all.
func (s *spreadScorer) score(n *structs.Node) (float64, bool) {
	if len(s.spreads) == 0 || s.total == 0 {
		return 0, false
	}
	sum := 0.0
	for i, sp := range s.spreads {
		counts := s.allocs.countsByValue(sp.Attribute, s.group.Name)
		boost := -1.0 // a node without the attribute is the last choice
		if v, ok := resolveTarget(sp.Attribute, n); ok {
			if len(sp.SpreadTarget) > 0 {
				boost = targetBoost(sp, counts, v, s.group.Count)
			} else {
				boost = evenBoost(counts, s.values[i], v)
			}
		}
		sum += boost * float64(sp.Weight) / s.total
	}
	return sum, true
}

// targetBoost compares the allocations value v would have with one more
// placed there against its target share of count: positive while below
// the share, negative once above it. Values without a target share what
// the targets leave of 100%.
func targetBoost(sp *structs.Spread, counts map[string]int, v string, count int) float64 {
	percent, used, listed := 0, 0, false
	sum := 0
	for _, t := range sp.SpreadTarget {
		sum += int(t.Percent)
		if t.Value == v {
			percent, listed = int(t.Percent), true
		}
	}
	if listed {
		used = counts[v]
	} else {
		percent = 100 - sum
		for val, c := range counts {
			if !slices.ContainsFunc(sp.SpreadTarget, func(t *structs.SpreadTarget) bool { return t.Value == val }) {
				used += c
			}
		}
	}
	desired := float64(percent) / 100 * float64(count)
	if desired <= 0 {
		return -1
	}
	return clamp((desired - float64(used+1)) / desired)
}

// evenBoost favours the values with the fewest allocations: the least used
// value scores 1, the most used -1, and all score 0 when they are level.
func evenBoost(counts map[string]int, values []string, v string) float64 {
	lo, hi := counts[v], counts[v]
	for _, val := range values {
		lo, hi = min(lo, counts[val]), max(hi, counts[val])
	}
	if hi == lo {
		return 0
	}
	return clamp(1 - 2*float64(counts[v]-lo)/float64(hi-lo))
}

func clamp(x float64) float64 { return min(max(x, -1), 1) }
