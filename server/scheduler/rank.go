package scheduler

import (
	"math"
	"math/bits"
)

// binPackMaxScore is the highest raw bin-packing score; scores are divided
// by it so they fall in [0, 1].
const binPackMaxScore = 18.0

// binPackScore rates a node by how full it would be with the allocation:
// 1 for a node filled up, 0 for an empty one. As Nomad's scoring (after
// Google's Borg), each dimension's free fraction f contributes 10^f, so the
// score falls steeply as a node empties and nodes already in use win.
func binPackScore(capCPU, capMem, usedCPU, usedMem int64) float64 {
	freeCPU := freeFraction(capCPU, usedCPU)
	freeMem := freeFraction(capMem, usedMem)
	score := 20 - (math.Pow(10, freeCPU) + math.Pow(10, freeMem))
	return min(max(score, 0), binPackMaxScore) / binPackMaxScore
}

// spreadFitScore is the opposite preference, for the spread algorithm: 1
// for an empty node, 0 for a full one, with the same steep curve, so the
// emptiest nodes fill first and load evens out.
func spreadFitScore(capCPU, capMem, usedCPU, usedMem int64) float64 {
	freeCPU := freeFraction(capCPU, usedCPU)
	freeMem := freeFraction(capMem, usedMem)
	score := math.Pow(10, freeCPU) + math.Pow(10, freeMem) - 2
	return min(max(score, 0), binPackMaxScore) / binPackMaxScore
}

func freeFraction(capacity, used int64) float64 {
	if capacity <= 0 {
		return 0
	}
	return 1 - float64(used)/float64(capacity)
}

// antiAffinityPenalty lowers the score of a node that already runs
// collisions allocations of the same job and group, so a group's
// allocations spread over nodes unless packing them is the only way. The
// penalty grows with the collisions and shrinks as the group's count grows
// (with many allocations, sharing a node is unavoidable). It is in [-1, 0).
func antiAffinityPenalty(collisions, count int) float64 {
	if count < 1 {
		count = 1
	}
	return max(-float64(collisions+1)/float64(count), -1)
}

// minCandidates is how many fitting nodes are ranked at least before the
// best is taken: small clusters are ranked whole.
const minCandidates = 8

// maxSkip is how many nodes with a negative score (a penalty outweighing
// their fit) may be passed over without counting toward the candidates,
// so that a penalised node does not crowd out a better one.
const maxSkip = 3

// candidateLimit is how many fitting nodes to rank among n feasible ones:
// log2(n), as Nomad's service scheduler, but never fewer than minCandidates.
// Ranking only a sample keeps placement cheap in large clusters; the nodes
// are shuffled, and each placement starts where the last one stopped, so
// every node gets its turn.
func candidateLimit(n int) int {
	if n <= 1 {
		return max(n, 1)
	}
	log2 := bits.Len(uint(n - 1)) // ceil(log2(n))
	return max(log2, minCandidates)
}
