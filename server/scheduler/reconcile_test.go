package scheduler

import (
	"fmt"
	"slices"
	"testing"

	"github.com/drover-project/drover/structs"
)

func testJob(typ string, count int) *structs.Job {
	j := &structs.Job{ID: "j", Type: typ, TaskGroups: []*structs.TaskGroup{{
		Name: "web", Count: count,
		Tasks: []*structs.Task{{Name: "app", Driver: "docker", Config: map[string]any{"image": "a"}}},
	}}}
	j.Canonicalize()
	return j
}

// allocSpec describes an existing allocation of job j, group web.
type allocSpec struct {
	index   int
	node    string
	client  string // client status; running when empty
	desired string // desired status; run when empty
	prev    int    // index into the case's allocs of the allocation it replaced, or -1
	oldJob  bool   // placed from the job before its update
}

func buildAllocs(job, old *structs.Job, specs []allocSpec) []*structs.Allocation {
	var out []*structs.Allocation
	for i, s := range specs {
		a := &structs.Allocation{
			ID: fmt.Sprintf("a%d", i), Namespace: job.Namespace, JobID: job.ID, Job: job, TaskGroup: "web",
			Name: allocName(job.ID, "web", s.index), NodeID: s.node, CreateIndex: uint64(i + 1),
			DesiredStatus: structs.AllocDesiredStatusRun, ClientStatus: structs.AllocClientStatusRunning,
		}
		if s.client != "" {
			a.ClientStatus = s.client
		}
		if s.desired != "" {
			a.DesiredStatus = s.desired
		}
		if s.oldJob {
			a.Job = old
		}
		if s.prev >= 0 {
			a.PreviousAllocation = fmt.Sprintf("a%d", s.prev)
		}
		out = append(out, a)
	}
	return out
}

func run(n int, node string) allocSpec { return allocSpec{index: n, node: node, prev: -1} }

func (s allocSpec) with(client string) allocSpec { s.client = client; return s }
func (s allocSpec) stopped() allocSpec           { s.desired = structs.AllocDesiredStatusStop; return s }
func (s allocSpec) replacing(i int) allocSpec    { s.prev = i; return s }
func (s allocSpec) fromOldJob() allocSpec        { s.oldJob = true; return s }
func (s allocSpec) on(node string) allocSpec     { s.node = node; return s }
func describeStop(st stopRequest) string         { return describeStopOf(st.alloc, st.desc, st.lost) }
func describeStopOf(a *structs.Allocation, desc string, lost bool) string {
	s := fmt.Sprintf("%s %s: %s", a.ID, a.Name, desc)
	if lost {
		s += " (lost)"
	}
	return s
}

func describePlace(p placeRequest) string {
	s := p.name
	if p.previous != nil {
		s += " replacing " + p.previous.ID
	}
	if p.stopPrevious != nil {
		s += " then stop: " + p.stopPrevious.desc
	}
	if p.avoidNode != "" {
		s += " avoiding " + p.avoidNode
	}
	return s
}

func TestReconcile(t *testing.T) {
	cases := []struct {
		name   string
		typ    string
		count  int
		allocs []allocSpec
		down   []string
		change func(j *structs.Job) *structs.Job // the job as it is now; default unchanged
		wantSt []string
		wantPl []string
	}{
		{
			name: "new job places every index", count: 3,
			wantPl: []string{"j.web[0]", "j.web[1]", "j.web[2]"},
		},
		{
			name: "in step does nothing", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(1, "n2")},
		},
		{
			name: "count up fills the lowest free indexes", count: 4,
			allocs: []allocSpec{run(0, "n1"), run(2, "n1")},
			wantPl: []string{"j.web[1]", "j.web[3]"},
		},
		{
			name: "count down stops the highest indexes", count: 1,
			allocs: []allocSpec{run(0, "n1"), run(1, "n1"), run(2, "n1")},
			wantSt: []string{"a2 j.web[2]: " + descNotNeeded, "a1 j.web[1]: " + descNotNeeded},
		},
		{
			name: "duplicate index is stopped", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(0, "n2"), run(1, "n1")},
			wantSt: []string{"a1 j.web[0]: " + descNotNeeded},
		},
		{
			name: "stopped job stops what runs", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(1, "n1"), run(2, "n1").stopped()},
			change: func(j *structs.Job) *structs.Job { j.Stop = true; return j },
			wantSt: []string{"a0 j.web[0]: " + descJobStopped, "a1 j.web[1]: " + descJobStopped},
		},
		{
			name: "purged job stops what runs", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(1, "n1").with(structs.AllocClientStatusComplete)},
			change: func(*structs.Job) *structs.Job { return nil },
			wantSt: []string{"a0 j.web[0]: " + descNotNeeded},
		},
		{
			name: "removed group is stopped", count: 1,
			allocs: []allocSpec{run(0, "n1")},
			change: func(j *structs.Job) *structs.Job { j.TaskGroups[0].Name = "api"; return j },
			wantSt: []string{"a0 j.web[0]: " + descNotNeeded},
			wantPl: []string{"j.api[0]"},
		},
		{
			name: "destructive update replaces", count: 2,
			allocs: []allocSpec{run(0, "n1").fromOldJob(), run(1, "n2").fromOldJob()},
			change: func(j *structs.Job) *structs.Job {
				j.TaskGroups[0].Tasks[0].Env = map[string]string{"A": "1"}
				return j
			},
			wantPl: []string{
				"j.web[0] replacing a0 then stop: " + descUpdating,
				"j.web[1] replacing a1 then stop: " + descUpdating,
			},
		},
		{
			name: "count-only change does not replace", count: 3,
			allocs: []allocSpec{run(0, "n1").fromOldJob(), run(1, "n2").fromOldJob()},
			wantPl: []string{"j.web[2]"},
		},
		{
			name: "failed service alloc is rescheduled away from its node", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(1, "n1").with(structs.AllocClientStatusFailed)},
			wantPl: []string{"j.web[1] replacing a1 then stop: " + descRescheduled + " avoiding n1"},
		},
		{
			name: "replaced failed alloc is left alone", count: 1,
			allocs: []allocSpec{run(0, "n1").with(structs.AllocClientStatusFailed), run(0, "n2").replacing(0)},
		},
		{
			name: "stopped alloc frees its index", count: 1,
			allocs: []allocSpec{run(0, "n1").with(structs.AllocClientStatusFailed).stopped()},
			wantPl: []string{"j.web[0]"},
		},
		{
			name: "complete service alloc is placed again", count: 1,
			allocs: []allocSpec{run(0, "n1").with(structs.AllocClientStatusComplete)},
			wantPl: []string{"j.web[0]"},
		},
		{
			name: "complete batch alloc is done", typ: structs.JobTypeBatch, count: 2,
			allocs: []allocSpec{run(0, "n1").with(structs.AllocClientStatusComplete), run(1, "n1")},
		},
		{
			name: "failed batch alloc is rescheduled once", typ: structs.JobTypeBatch, count: 2,
			allocs: []allocSpec{
				run(0, "n1").with(structs.AllocClientStatusFailed).stopped(),
				run(0, "n2").with(structs.AllocClientStatusFailed).replacing(0),
				run(1, "n1").with(structs.AllocClientStatusFailed),
			},
			wantPl: []string{"j.web[1] replacing a2 then stop: " + descRescheduled + " avoiding n1"},
		},
		{
			name: "lost alloc is replaced", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(1, "n2").with(structs.AllocClientStatusLost)},
			wantSt: []string{"a1 j.web[1]: " + descLost + " (lost)"},
			wantPl: []string{"j.web[1] replacing a1 avoiding n2"},
		},
		{
			name: "alloc on a down node is lost and replaced", count: 2,
			allocs: []allocSpec{run(0, "n1"), run(1, "n2")},
			down:   []string{"n2"},
			wantSt: []string{"a1 j.web[1]: " + descLost + " (lost)"},
			wantPl: []string{"j.web[1] replacing a1 avoiding n2"},
		},
		{
			name: "count down on a down node stops it as lost", count: 1,
			allocs: []allocSpec{run(0, "n1"), run(1, "n2")},
			down:   []string{"n2"},
			wantSt: []string{"a1 j.web[1]: " + descNotNeeded + " (lost)"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typ := tc.typ
			if typ == "" {
				typ = structs.JobTypeService
			}
			old := testJob(typ, tc.count)
			job := old.Copy()
			job.Version++
			if tc.change != nil {
				job = tc.change(job)
			}
			owner := job
			if owner == nil {
				owner = old
			}
			allocs := buildAllocs(owner, old, tc.allocs)
			down := map[string]bool{}
			for _, n := range tc.down {
				down[n] = true
			}

			r := reconcile(job, allocs, down)

			var gotSt, gotPl []string
			for _, st := range r.stops {
				gotSt = append(gotSt, describeStop(st))
			}
			for _, p := range r.places {
				gotPl = append(gotPl, describePlace(p))
			}
			if !slices.Equal(gotSt, tc.wantSt) {
				t.Errorf("stops:\n got %q\nwant %q", gotSt, tc.wantSt)
			}
			if !slices.Equal(gotPl, tc.wantPl) {
				t.Errorf("places:\n got %q\nwant %q", gotPl, tc.wantPl)
			}
			// Reconciling is pure: the same inputs give the same answer.
			if again := reconcile(job, allocs, down); len(again.stops) != len(r.stops) || len(again.places) != len(r.places) {
				t.Errorf("second reconcile differs: %d stops, %d places", len(again.stops), len(again.places))
			}
		})
	}
}

func TestDestructiveChange(t *testing.T) {
	base := testJob(structs.JobTypeService, 2)
	base.TaskGroups[0].Networks = []*structs.NetworkResource{{Mode: "host", DynamicPorts: []structs.Port{{Label: "http"}}}}
	cases := []struct {
		name   string
		change func(j *structs.Job)
		want   bool
	}{
		{"nothing", func(*structs.Job) {}, false},
		{"count", func(j *structs.Job) { j.TaskGroups[0].Count = 9 }, false},
		{"priority", func(j *structs.Job) { j.Priority = 90 }, false},
		{"restart policy", func(j *structs.Job) { j.TaskGroups[0].RestartPolicy.Attempts = 9 }, false},
		{"empty config map vs nil env", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Env = map[string]string{} }, false},
		{"image", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Config["image"] = "b" }, true},
		{"env", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Env = map[string]string{"A": "1"} }, true},
		{"cpu", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Resources.CPU = 900 }, true},
		{"memory", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Resources.MemoryMB = 900 }, true},
		{"driver", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Driver = "exec" }, true},
		{"task added", func(j *structs.Job) {
			j.TaskGroups[0].Tasks = append(j.TaskGroups[0].Tasks, &structs.Task{Name: "side", Driver: "docker"})
		}, true},
		{"task renamed", func(j *structs.Job) { j.TaskGroups[0].Tasks[0].Name = "other" }, true},
		{"port", func(j *structs.Job) {
			j.TaskGroups[0].Networks[0].DynamicPorts = []structs.Port{{Label: "http", To: 8080}}
		}, true},
		{"network mode", func(j *structs.Job) { j.TaskGroups[0].Networks[0].Mode = "bridge" }, true},
		{"job meta", func(j *structs.Job) { j.Meta = map[string]string{"a": "b"} }, true},
		{"group meta", func(j *structs.Job) { j.TaskGroups[0].Meta = map[string]string{"a": "b"} }, true},
		{"group removed", func(j *structs.Job) { j.TaskGroups[0].Name = "api" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next := base.Copy()
			tc.change(next)
			if got := destructiveChange(base, next, "web"); got != tc.want {
				t.Errorf("destructiveChange = %v, want %v", got, tc.want)
			}
		})
	}
	if destructiveChange(nil, base, "web") {
		t.Error("an allocation without its job must not be replaced")
	}
}
