// Command rolling prints the figures of a rolling update: over -runs
// updates of a service of count 4 (max_parallel 1, min_healthy_time 1s,
// an http check every second, shutdown_delay 2s) between two versions of
// the demo app, the time from the job's registration until its deployment
// succeeds (p50, max), and how many of the requests a client sent to the
// ready instances meanwhile failed (target: 0). `make bench-rolling` runs
// it against a dev agent.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/internal/demoimage"
	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/jobspec"
	"github.com/drover-project/drover/structs"
)

const jobSrc = `
job "bench-rolling" {
  update {
    max_parallel     = 1
    min_healthy_time = "1s"
    healthy_deadline = "30s"
  }
  group "web" {
    count          = 4
    shutdown_delay = "2s"
    network {
      port "http" { to = 8080 }
    }
    service {
      name = "bench-rolling"
      port = "http"
      check {
        type     = "http"
        path     = "/health"
        interval = "1s"
        timeout  = "1s"
      }
    }
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:%s"
        ports = ["http"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

func main() {
	runs := flag.Int("runs", 3, "rolling updates to measure")
	flag.Parse()
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench-rolling:", err)
		os.Exit(1)
	}
}

func run(runs int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "drover-bench-rolling-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := devagent.Build(ctx, dir)
	if err != nil {
		return err
	}
	if err := demoimage.Ensure(ctx, "v1", "v2"); err != nil {
		return err
	}
	agent, err := devagent.Start(ctx, bin, dir+"/agent")
	if err != nil {
		return err
	}
	defer agent.Stop(30 * time.Second)
	cl, err := api.NewClient(&api.Config{Address: agent.Addr})
	if err != nil {
		return err
	}
	if err := register(cl, "v1"); err != nil {
		return err
	}
	if err := waitFor(2*time.Minute, func() bool { return len(ready(cl, nil)) == 4 }); err != nil {
		return fmt.Errorf("the first version never ran: %w", err)
	}
	var took []time.Duration
	var sent, failed int64
	for i := range runs {
		version := []string{"v2", "v1"}[i%2]
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			traffic(cl, stop, &sent, &failed)
		}()
		start := time.Now()
		if err := register(cl, version); err != nil {
			return err
		}
		err := waitFor(5*time.Minute, func() bool {
			d, _, err := cl.Jobs().LatestDeployment("bench-rolling", nil)
			job, _, jerr := cl.Jobs().Info("bench-rolling", nil)
			return err == nil && jerr == nil && d != nil && d.JobVersion == job.Version && d.Status == structs.DeploymentStatusSuccessful
		})
		close(stop)
		<-done
		if err != nil {
			return fmt.Errorf("update to %s: %w", version, err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "figure\tp50\tmax\t")
	fmt.Fprintf(w, "rolling update, count 4, max_parallel 1, min_healthy_time 1s\t%s\t%s\t\n",
		took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	fmt.Fprintf(w, "requests failed during the updates (target 0)\t%d of %d\t\t\n", failed, sent)
	return w.Flush()
}

func register(cl *api.Client, version string) error {
	job, err := jobspec.Parse("job.hcl", []byte(fmt.Sprintf(jobSrc, version)), nil)
	if err != nil {
		return err
	}
	_, err = cl.Jobs().Register(job)
	return err
}

// ready lists the instances a client may send to: running, not being
// stopped, and healthy in their deployment (or placed before any).
func ready(cl *api.Client, cache map[string]*structs.Allocation) []*structs.Allocation {
	stubs, _, err := cl.Jobs().Allocations("bench-rolling", false, nil)
	if err != nil {
		return nil
	}
	var out []*structs.Allocation
	for _, s := range stubs {
		if s.ClientStatus != structs.AllocClientStatusRunning || s.DesiredStatus != structs.AllocDesiredStatusRun {
			continue
		}
		a := cache[s.ID]
		if a == nil {
			if a, _, err = cl.Allocations().Info(s.ID, nil); err != nil {
				continue
			}
			if cache != nil {
				cache[s.ID] = a
			}
		}
		if a.DeploymentID != "" && !s.DeploymentStatus.IsHealthy() {
			continue
		}
		out = append(out, a)
	}
	return out
}

// traffic sends requests to the ready instances until stop closes.
func traffic(cl *api.Client, stop <-chan struct{}, sent, failed *int64) {
	cache := map[string]*structs.Allocation{}
	hc := http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-stop:
			return
		default:
		}
		for _, a := range ready(cl, cache) {
			for _, p := range a.AllocatedResources.Shared.Ports {
				if p.Label != "http" {
					continue
				}
				atomic.AddInt64(sent, 1)
				resp, err := hc.Get(fmt.Sprintf("http://%s:%d/", p.HostIP, p.Value))
				if err != nil || resp.StatusCode != http.StatusOK {
					atomic.AddInt64(failed, 1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		}
		time.Sleep(20 * time.Millisecond) // a steady pace
	}
}

func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}
