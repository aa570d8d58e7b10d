package jobspec

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestMigrateBlock(t *testing.T) {
	job := mustParse(t, `
job "web" {
  group "web" {
    migrate {
      max_parallel     = 2
      min_healthy_time = "20s"
    }
    task "app" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
  group "plain" {
    task "app" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}
`, nil)
	want := &structs.MigrateStrategy{MaxParallel: 2, HealthCheck: "checks", MinHealthyTime: 20 * time.Second, HealthyDeadline: 5 * time.Minute}
	assertEqual(t, job.TaskGroups[0].Migrate, want)
	job.Canonicalize()
	assertEqual(t, job.TaskGroups[1].Migrate, structs.DefaultMigrateStrategy())
}

func TestMigrateBlockErrors(t *testing.T) {
	msg := parseError(t, `
job "web" {
  group "web" {
    migrate {
      health_check = "vibes"
      max_parallel = 1
      speed        = 3
    }
    task "app" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}
`, nil)
	for _, want := range []string{`job.hcl:7:7: Unsupported argument`, `job.hcl:4:5: Invalid migrate block`, `health_check must be`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}
