package scheduler

import (
	"fmt"
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
