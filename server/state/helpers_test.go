package state

import (
	"testing"

	"github.com/drover-project/drover/structs"
)

func newStore(t *testing.T) *StateStore {
	t.Helper()
	s, err := NewStateStore()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustJob(t *testing.T, s *StateStore, id string) *structs.Job {
	t.Helper()
	j, err := s.JobByID(nil, structs.DefaultNamespace, id)
	if err != nil {
		t.Fatal(err)
	}
	if j == nil {
		t.Fatalf("job %q not found", id)
	}
	return j
}

func mustSummary(t *testing.T, s *StateStore, jobID, group string) structs.TaskGroupSummary {
	t.Helper()
	sum, err := s.JobSummaryByID(nil, structs.DefaultNamespace, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if sum == nil {
		t.Fatalf("no summary for job %q", jobID)
	}
	return sum.Summary[group]
}

func mustIndex(t *testing.T, s *StateStore, table string, want uint64) {
	t.Helper()
	got, err := s.Index(table)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("index of %s = %d, want %d", table, got, want)
	}
}
