package scheduler_test

import (
	"fmt"
	"strings"
	"testing"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// A placement's metric keeps the final scores of the best five nodes it
// ranked and the scores of each scorer for the chosen one, not every
// ranked node's: an allocation would otherwise carry a map entry per
// scorer per ranked node.
func TestMetricKeepsTheScoresOfTheBestFiveNodes(t *testing.T) {
	h := st.NewHarness()
	for i := range 40 {
		h.State.UpsertNode(st.Node(fmt.Sprintf("node-%02d", i)))
	}
	job := h.State.UpsertJob(st.Job("web", 1))
	if err := h.Process(h.NewEval(job, structs.EvalTriggerJobRegister)); err != nil {
		t.Fatal(err)
	}
	allocs := h.State.Allocs()
	if len(allocs) != 1 {
		t.Fatalf("%d allocations, want 1", len(allocs))
	}
	a := allocs[0]
	m := a.Metrics
	if m == nil || m.NodesEvaluated < 8 {
		t.Fatalf("metric %+v: want at least 8 nodes ranked (minCandidates)", m)
	}
	nodes := map[string]bool{}
	for key := range m.Scores {
		id, scorer, ok := strings.Cut(key, ".")
		if !ok {
			t.Fatalf("score key %q is not <node>.<scorer>", key)
		}
		nodes[id] = true
		if scorer != "normalized-score" && id != a.NodeID {
			t.Errorf("scorer %s kept for %s, which was not chosen", scorer, id)
		}
	}
	if len(nodes) != 5 {
		t.Fatalf("scores of %d nodes (%v), want 5", len(nodes), m.Scores)
	}
	if _, ok := m.Scores[a.NodeID+".binpack"]; !ok {
		t.Fatalf("no binpack score of the chosen node %s: %v", a.NodeID, m.Scores)
	}
	best, ok := m.Scores[a.NodeID+".normalized-score"]
	if !ok {
		t.Fatalf("no score of the chosen node %s: %v", a.NodeID, m.Scores)
	}
	for key, s := range m.Scores {
		if strings.HasSuffix(key, ".normalized-score") && s > best {
			t.Fatalf("%s scored %v, above the chosen node's %v", key, s, best)
		}
	}
}
