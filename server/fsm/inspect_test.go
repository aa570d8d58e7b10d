package fsm

import (
	"bytes"
	"strings"
	"testing"
)

func TestCountRecordsCountsEveryKind(t *testing.T) {
	src := populate(t)
	counts, err := CountRecords(bytes.NewReader(persist(t, src)))
	if err != nil {
		t.Fatal(err)
	}
	s := src.State()
	jobs, _ := s.Jobs(nil)
	allocs, _ := s.Allocs(nil)
	evals, _ := s.Evals(nil)
	nodes, _ := s.Nodes(nil)
	for kind, want := range map[string]int{kindJob: len(jobs), kindAlloc: len(allocs), kindEval: len(evals), kindNode: len(nodes)} {
		if counts[kind].Count != want || (want > 0 && counts[kind].Size <= 0) {
			t.Errorf("%s: %+v, want %d records with a size", kind, counts[kind], want)
		}
	}
	if _, err := CountRecords(strings.NewReader("{\"Format\":\"other\"}\n")); err == nil {
		t.Error("a stream of another format was counted")
	}
}
