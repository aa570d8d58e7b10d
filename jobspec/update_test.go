package jobspec

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestUpdateBlocksMergeOverDefaults(t *testing.T) {
	job := mustParse(t, `job "x" {
  update {
    max_parallel     = 2
    min_healthy_time = "1s"
    auto_revert      = true
  }
  group "a" {
    update {
      canary       = 1
      health_check = "task_states"
    }
    task "t" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
  group "b" {
    update { max_parallel = 0 }
    task "t" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
  group "c" {
    task "t" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}`, nil)
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, job.TaskGroups[0].Update, &structs.UpdateStrategy{
		Stagger: 30 * time.Second, MaxParallel: 2, HealthCheck: "task_states", MinHealthyTime: time.Second,
		HealthyDeadline: 5 * time.Minute, ProgressDeadline: 10 * time.Minute, AutoRevert: true, Canary: 1,
	})
	if got := job.TaskGroups[1].Update; got.MaxParallel != 0 || got.Rolling() {
		t.Errorf("max_parallel = 0 should turn deployments off: %+v", got)
	}
	if got := job.TaskGroups[2].Update; got.MaxParallel != 2 || got.MinHealthyTime != time.Second || !got.AutoRevert {
		t.Errorf("a group without update takes the job's: %+v", got)
	}
}

func TestUpdateBlockErrors(t *testing.T) {
	msg := parseError(t, `job "x" {
  group "g" {
    update { health_check = "sometimes" }
    task "t" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}`, nil)
	if !strings.Contains(msg, `health_check must be "checks", "task_states" or "manual"`) {
		t.Errorf("error: %s", msg)
	}

	job := mustParse(t, `job "x" {
  group "g" {
    update {
      min_healthy_time = "10m"
      healthy_deadline = "1m"
    }
    task "t" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}`, nil)
	job.Canonicalize()
	if err := job.Validate(); err == nil || !strings.Contains(err.Error(), `group "g": update: min_healthy_time (10m0s) must be less than healthy_deadline (1m0s)`) {
		t.Errorf("validate: %v", err)
	}
}
