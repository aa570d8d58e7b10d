package statetest

import (
	"testing"

	"github.com/drover-project/drover/structs"
)

// Store is the part of *state.StateStore that Seed writes through (an
// interface, since the state package's own tests import this one).
type Store interface {
	UpsertNode(index uint64, node *structs.Node, evals ...*structs.Evaluation) error
	UpsertJob(index uint64, job *structs.Job, evals ...*structs.Evaluation) error
}

// Seed stores a Node for each of nodeIDs, at indexes 1, 2, ..., then job at
// the next index, and returns the job's index.
func Seed(t testing.TB, st Store, job *structs.Job, nodeIDs ...string) uint64 {
	t.Helper()
	index := uint64(0)
	for _, id := range nodeIDs {
		index++
		if err := st.UpsertNode(index, Node(id)); err != nil {
			t.Fatal(err)
		}
	}
	index++
	if err := st.UpsertJob(index, job); err != nil {
		t.Fatal(err)
	}
	return index
}
