package command

import (
	"strings"
	"testing"

	"github.com/drover-project/drover/structs"
)

func planTestJob() *structs.Job {
	j := &structs.Job{ID: "example", TaskGroups: []*structs.TaskGroup{{Name: "cache", Count: 1, Tasks: []*structs.Task{{
		Name: "redis", Driver: "docker", Config: map[string]any{"image": "redis:3.2"},
	}}}}}
	j.Canonicalize()
	return j
}

func TestFormatJobDiff(t *testing.T) {
	old, new := planTestJob(), planTestJob()
	new.TaskGroups[0].Count = 2
	new.TaskGroups[0].Tasks[0].Config["image"] = "redis:4.0"
	new.Constraints = []*structs.Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}}
	d := old.Diff(new, true)
	d.Annotate(&structs.PlanAnnotations{DesiredTGUpdates: map[string]*structs.DesiredUpdates{
		"cache": {Place: 1, DestructiveUpdate: 1},
	}})
	got := formatJobDiff(d, false)
	want := `+/- Job: "example"
+ Constraint {
  + LTarget: "${attr.kernel.name}"
  + Operand: "="
  + RTarget: "linux"
  }
+/- Task Group: "cache" (1 create, 1 create/destroy update)
  +/- Count: "1" => "2" (forces create)
  +/- Task: "redis" (forces create/destroy update)
    +/- Config {
      +/- image: "redis:3.2" => "redis:4.0"
      }`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatDryRunFailures(t *testing.T) {
	out := formatDryRun(&structs.JobPlanResponse{FailedTGAllocs: map[string]*structs.AllocMetric{"cache": {
		NodesEvaluated: 2, NodesFiltered: 2, ConstraintFiltered: map[string]int{"${attr.kernel.name} = windows": 2},
	}}})
	for _, want := range []string{
		"- WARNING: Failed to place all allocations.",
		`  Task Group "cache" (failed to place 1 allocation):`,
		`    * Constraint "${attr.kernel.name} = windows": 2 nodes excluded by filter`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
}
