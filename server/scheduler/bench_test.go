package scheduler_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/drover-project/drover/server/scheduler"
	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// BenchmarkPlace5000On500 places one job of 5,000 allocations on 500 nodes
// of five classes (different node classes, kernels and racks), with a
// constraint that excludes one class and a dynamic port: the issue's
// headline figure, for the scheduler alone. Each iteration is one
// evaluation; allocs/s is reported.
func BenchmarkPlace5000On500(b *testing.B) {
	h := st.NewHarness()
	for i := range 500 {
		class := i % 5
		n := st.Node(fmt.Sprintf("node-%04d", i))
		n.NodeClass = fmt.Sprintf("class-%d", class)
		n.Attributes["kernel.name"] = "linux"
		if class == 4 {
			n.Attributes["kernel.name"] = "windows"
		}
		n.Attributes["unique.hostname"] = n.ID
		n.Meta = map[string]string{"rack": fmt.Sprintf("r%d", class)}
		n.NodeResources.Cpu.CpuShares = 20000
		n.NodeResources.Memory.MemoryMB = 32768
		h.State.UpsertNode(n)
	}
	job := withPorts(st.Job("big", 5000), &structs.NetworkResource{DynamicPorts: []structs.Port{{Label: "http"}}})
	job.TaskGroups[0].Tasks[0].Resources = &structs.Resources{CPU: 100, MemoryMB: 64}
	job.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}}
	job.Canonicalize()
	job = h.State.UpsertJob(job)
	p := &discardPlanner{}
	clock := func() time.Time { return h.Now }
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		eval := h.NewEval(job, structs.EvalTriggerJobRegister)
		if err := scheduler.New(nil, h.State, p, clock).Process(eval); err != nil {
			b.Fatal(err)
		}
	}
	if p.placed != 5000*p.plans {
		b.Fatalf("placed %d in %d plans, want 5000 each", p.placed, p.plans)
	}
	b.ReportMetric(float64(p.placed)/time.Since(start).Seconds(), "allocs/s")
}
