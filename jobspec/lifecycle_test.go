package jobspec

import (
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestLifecycleAndTaskRestart(t *testing.T) {
	src := `
job "example" {
  group "web" {
    shutdown_delay = "3s"
    restart {
      attempts = 5
      delay    = "2s"
      mode     = "delay"
    }
    task "init" {
      driver = "docker"
      config { image = "busybox" }
      lifecycle { hook = "prestart" }
      restart {
        delay = "1s"
      }
    }
    task "side" {
      driver = "docker"
      config { image = "busybox" }
      lifecycle {
        hook    = "prestart"
        sidecar = true
      }
      shutdown_delay = "1s"
    }
    task "main" {
      driver = "docker"
      config { image = "busybox" }
      leader = true
    }
  }
}`
	job, err := Parse("job.hcl", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := job.TaskGroups[0]
	if tg.ShutdownDelay != 3*time.Second {
		t.Errorf("group shutdown_delay = %v", tg.ShutdownDelay)
	}
	init, side, main := tg.Tasks[0], tg.Tasks[1], tg.Tasks[2]
	if init.Lifecycle == nil || init.Lifecycle.Hook != structs.TaskLifecycleHookPrestart || init.Lifecycle.Sidecar {
		t.Errorf("init lifecycle = %+v", init.Lifecycle)
	}
	if side.Lifecycle == nil || !side.Lifecycle.Sidecar || side.ShutdownDelay != time.Second {
		t.Errorf("side = %+v %+v", side.Lifecycle, side.ShutdownDelay)
	}
	if main.Lifecycle != nil || !main.Leader {
		t.Errorf("main = %+v leader %v", main.Lifecycle, main.Leader)
	}
	// The task's restart block is merged over the group's: only delay differs.
	want := structs.RestartPolicy{Attempts: 5, Interval: 30 * time.Minute, Delay: time.Second, Mode: structs.RestartModeDelay}
	if init.RestartPolicy == nil || *init.RestartPolicy != want {
		t.Errorf("init restart = %+v, want %+v", init.RestartPolicy, want)
	}
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	// Canonicalize gives every task its group's policy.
	if main.RestartPolicy == nil || main.RestartPolicy.Attempts != 5 || main.RestartPolicy.Delay != 2*time.Second {
		t.Errorf("main restart = %+v", main.RestartPolicy)
	}
}
