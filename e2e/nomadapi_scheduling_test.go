package e2e

import "testing"

// TestNomadGoClientScheduling uses HashiCorp's Go client for what the
// scheduler adds: a job with a constraint, an affinity and a spread is
// planned (diff, annotations, check index), registered, scaled, listed in
// versions and reverted; the scheduler configuration is read and set.
func TestNomadGoClientScheduling(t *testing.T) {
	a := startAgent(t)
	c := nomadClient(t, a.Addr)
	jobs := c.Jobs()
	job, err := jobs.ParseHCL(`
job "nomad-sched" {
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }
  affinity {
    attribute = "${node.datacenter}"
    value     = "dc1"
    weight    = 50
  }
  group "g" {
    count = 1
    spread {
      attribute = "${node.datacenter}"
    }
    task "t" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}`, true)
	if err != nil {
		t.Fatalf("ParseHCL: %v", err)
	}
	if len(job.Constraints) != 1 || len(job.Affinities) != 1 || len(job.TaskGroups[0].Spreads) != 1 {
		t.Fatalf("parsed placement rules: %+v %+v %+v", job.Constraints, job.Affinities, job.TaskGroups[0].Spreads)
	}

	plan, _, err := jobs.Plan(job, true, nil)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if plan.Diff == nil || plan.Diff.Type != "Added" || plan.JobModifyIndex != 0 ||
		plan.Annotations == nil || plan.Annotations.DesiredTGUpdates["g"] == nil || plan.Annotations.DesiredTGUpdates["g"].Place != 1 {
		t.Fatalf("plan = %+v", plan)
	}

	if _, _, err := jobs.Register(job, nil); err != nil {
		t.Fatalf("Register: %v", err)
	}
	count := 2
	if _, _, err := jobs.Scale("nomad-sched", "g", &count, "more", false, nil, nil); err != nil {
		t.Fatalf("Scale: %v", err)
	}
	versions, diffs, _, err := jobs.Versions("nomad-sched", true, nil)
	if err != nil {
		t.Fatalf("Versions: %v", err)
	}
	if len(versions) != 2 || *versions[0].Version != 1 || *versions[0].TaskGroups[0].Count != 2 || len(diffs) != 1 {
		t.Fatalf("versions %d, diffs %d", len(versions), len(diffs))
	}
	if _, _, err := jobs.Revert("nomad-sched", 0, nil, nil, "", ""); err != nil {
		t.Fatalf("Revert: %v", err)
	}
	info, _, err := jobs.Info("nomad-sched", nil)
	if err != nil || *info.Version != 2 || *info.TaskGroups[0].Count != 1 {
		t.Fatalf("after revert: %+v, %v", info, err)
	}

	op := c.Operator()
	cfg, _, err := op.SchedulerGetConfiguration(nil)
	if err != nil || cfg.SchedulerConfig == nil || cfg.SchedulerConfig.SchedulerAlgorithm != "binpack" {
		t.Fatalf("SchedulerGetConfiguration: %+v, %v", cfg, err)
	}
	cfg.SchedulerConfig.SchedulerAlgorithm = "spread"
	set, _, err := op.SchedulerSetConfiguration(cfg.SchedulerConfig, nil)
	if err != nil || !set.Updated {
		t.Fatalf("SchedulerSetConfiguration: %+v, %v", set, err)
	}
}
