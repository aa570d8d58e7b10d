package jobspec

import (
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestPlacementBlocks(t *testing.T) {
	job, err := ParseFile("testdata/valid/placement.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.Type != structs.JobTypeSystem {
		t.Errorf("type %q, want system", job.Type)
	}
	assertEqual(t, job.Constraints, []*structs.Constraint{
		{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="},
		{Operand: "distinct_hosts"},
	})
	assertEqual(t, job.Affinities, []*structs.Affinity{{LTarget: "${node.datacenter}", RTarget: "dc1", Operand: "=", Weight: 70}})
	assertEqual(t, job.Spreads, []*structs.Spread{{Attribute: "${node.datacenter}", Weight: 100,
		SpreadTarget: []*structs.SpreadTarget{{Value: "dc1", Percent: 60}, {Value: "dc2", Percent: 40}}}})
	tg := job.TaskGroups[0]
	assertEqual(t, tg.Constraints, []*structs.Constraint{
		{LTarget: "${attr.driver.docker.version}", RTarget: ">= 20.10", Operand: "version"},
		{LTarget: "${meta.rack}", RTarget: "2", Operand: "distinct_property"},
	})
	assertEqual(t, tg.Affinities, []*structs.Affinity{{LTarget: "${meta.spot}", RTarget: "true", Operand: "=", Weight: -50}})
	assertEqual(t, tg.Spreads, []*structs.Spread{{Attribute: "${meta.rack}", Weight: 50}})
	task := tg.Tasks[0]
	assertEqual(t, task.Constraints, []*structs.Constraint{{LTarget: "${attr.cpu.numcores}", RTarget: "2", Operand: ">="}})
	assertEqual(t, task.Affinities, []*structs.Affinity{{LTarget: "${meta.tags}", RTarget: "ssd,nvme", Operand: "set_contains_any", Weight: 50}})
}

func TestDistinctHostsFalseIsNoConstraint(t *testing.T) {
	job := mustParse(t, `job "x" {
  constraint {
    distinct_hosts = false
  }
}`, nil)
	if len(job.Constraints) != 0 {
		t.Errorf("constraints = %v, want none", job.Constraints)
	}
}

func TestRescheduleBlocks(t *testing.T) {
	job := mustParse(t, `job "x" {
  reschedule {
    delay          = "10s"
    delay_function = "fibonacci"
    max_delay      = "2m"
  }
  group "a" {
    task "t" {
      driver = "docker"
      config { image = "busybox:1" }
    }
  }
  group "b" {
    reschedule {
      attempts = 3
      interval = "1h"
    }
    task "t" {
      driver = "docker"
      config { image = "busybox:1" }
    }
  }
}`, nil)
	a, b := job.TaskGroups[0].ReschedulePolicy, job.TaskGroups[1].ReschedulePolicy
	assertEqual(t, a, &structs.ReschedulePolicy{Delay: 10 * time.Second, DelayFunction: "fibonacci", MaxDelay: 2 * time.Minute, Unlimited: true})
	assertEqual(t, b, &structs.ReschedulePolicy{Attempts: 3, Interval: time.Hour, Delay: 10 * time.Second, DelayFunction: "fibonacci", MaxDelay: 2 * time.Minute})
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
}
