package scheduler

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-project/drover/structs"
)

// TestReconcileData runs the cases of testdata/reconcile/*.txt: existing
// allocations and a change to the job in, the stops and placements that
// reconcile decides out (see testdata/reconcile/README for the format).
func TestReconcileData(t *testing.T) {
	files, err := filepath.Glob("testdata/reconcile/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no reconcile cases: %v", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range splitCases(string(src)) {
			t.Run(filepath.Base(file)+"/"+c.name, func(t *testing.T) { c.run(t) })
		}
	}
}

type reconcileCase struct {
	name       string
	input, out []string
}

// splitCases splits a file at its "=== name" lines and each case at "---".
func splitCases(src string) []reconcileCase {
	var cases []reconcileCase
	var cur *reconcileCase
	expecting := false
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "=== "):
			cases = append(cases, reconcileCase{name: strings.TrimPrefix(line, "=== ")})
			cur, expecting = &cases[len(cases)-1], false
		case cur == nil || line == "" || strings.HasPrefix(line, "#"):
		case line == "---":
			expecting = true
		case expecting:
			cur.out = append(cur.out, line)
		default:
			cur.input = append(cur.input, line)
		}
	}
	return cases
}

func (c reconcileCase) run(t *testing.T) {
	var old, job *structs.Job
	var specs []allocSpec
	down := map[string]bool{}
	for _, line := range c.input {
		f := strings.Fields(line)
		switch f[0] {
		case "job":
			count, err := strconv.Atoi(f[2])
			if err != nil {
				t.Fatalf("%q: bad count", line)
			}
			old = testJob(f[1], count)
			job = old.Copy()
			job.Version++
			for _, change := range f[3:] {
				job = applyChange(t, job, change)
			}
		case "alloc":
			index, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("%q: bad index", line)
			}
			s := run(index, f[2])
			for _, opt := range f[3:] {
				key, value, _ := strings.Cut(opt, "=")
				switch key {
				case "client":
					s = s.with(value)
				case "desired":
					s.desired = value
				case "replacing":
					n, err := strconv.Atoi(value)
					if err != nil {
						t.Fatalf("%q: bad replacing", line)
					}
					s = s.replacing(n)
				case "old":
					s = s.fromOldJob()
				default:
					t.Fatalf("%q: unknown option %q", line, opt)
				}
			}
			specs = append(specs, s)
		case "down":
			down[f[1]] = true
		default:
			t.Fatalf("unknown input line %q", line)
		}
	}
	if old == nil {
		t.Fatal("case has no job line")
	}
	owner := job
	if owner == nil {
		owner = old
	}
	allocs := buildAllocs(owner, old, specs)

	r := reconcile(job, allocs, down)
	var got []string
	for _, st := range r.stops {
		got = append(got, "stop "+describeStop(st))
	}
	for _, p := range r.places {
		got = append(got, "place "+describePlace(p))
	}
	if !slices.Equal(got, c.out) {
		t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.out, "\n  "))
	}
	// Reconciling is pure: the same inputs give the same answer.
	again := reconcile(job, allocs, down)
	if len(again.stops) != len(r.stops) || len(again.places) != len(r.places) {
		t.Errorf("second reconcile differs: %d stops, %d places", len(again.stops), len(again.places))
	}
}

// applyChange makes the job differ from the version its allocations were
// placed from.
func applyChange(t *testing.T, job *structs.Job, change string) *structs.Job {
	key, value, _ := strings.Cut(change, "=")
	switch key {
	case "stop":
		job.Stop = true
	case "purge":
		return nil
	case "group":
		job.TaskGroups[0].Name = value
	case "update":
		job.TaskGroups[0].Tasks[0].Env = map[string]string{"A": "1"}
	default:
		t.Fatalf("unknown job change %q", change)
	}
	return job
}
