package e2e

import (
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
)

// nomadClient is HashiCorp's own Go client of the agent at addr.
func nomadClient(t *testing.T, addr string) *nomad.Client {
	t.Helper()
	c, err := nomad.NewClient(&nomad.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNomadGoClient proves drover's /v1 API keeps HashiCorp's own Go client
// working, used as a black box: parse on the server, register, inspect,
// list allocations and evaluations, and purge.
func TestNomadGoClient(t *testing.T) {
	a := startAgent(t)
	c := nomadClient(t, a.Addr)
	jobs := c.Jobs()

	job, err := jobs.ParseHCL(`
job "nomad-client" {
  datacenters = ["dc1"]
  group "g" {
    count = 1
    network {
      port "http" { to = 8080 }
    }
    task "t" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        ports = ["http"]
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
	if job.ID == nil || *job.ID != "nomad-client" || len(job.TaskGroups) != 1 || *job.TaskGroups[0].Count != 1 {
		t.Fatalf("parsed job %+v", job)
	}

	resp, _, err := jobs.Register(job, nil)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if resp.EvalID == "" || resp.JobModifyIndex == 0 {
		t.Fatalf("register response %+v", resp)
	}

	info, meta, err := jobs.Info("nomad-client", nil)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if *info.ID != "nomad-client" || *info.Type != "service" || meta.LastIndex == 0 {
		t.Fatalf("info %+v meta %+v", info, meta)
	}

	list, _, err := jobs.List(nil)
	if err != nil || len(list) != 1 || list[0].ID != "nomad-client" {
		t.Fatalf("List: %v %+v", err, list)
	}

	evals, _, err := jobs.Evaluations("nomad-client", nil)
	if err != nil || len(evals) == 0 || evals[0].JobID != "nomad-client" {
		t.Fatalf("Evaluations: %v %+v", err, evals)
	}
	eval, _, err := c.Evaluations().Info(resp.EvalID, nil)
	if err != nil || eval.ID != resp.EvalID {
		t.Fatalf("Evaluations().Info: %v %+v", err, eval)
	}

	waitFor(t, 60*time.Second, "the allocation to run", func() (bool, error) {
		allocs, _, err := jobs.Allocations("nomad-client", false, nil)
		if err != nil {
			return false, err
		}
		return len(allocs) == 1 && allocs[0].ClientStatus == "running", nil
	})
	allocs, _, err := jobs.Allocations("nomad-client", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	alloc, _, err := c.Allocations().Info(allocs[0].ID, nil)
	if err != nil || alloc.JobID != "nomad-client" || alloc.TaskStates["t"] == nil {
		t.Fatalf("Allocations().Info: %v %+v", err, alloc)
	}

	nodes, _, err := c.Nodes().List(nil)
	if err != nil || len(nodes) != 1 || nodes[0].Status != "ready" {
		t.Fatalf("Nodes().List: %v %+v", err, nodes)
	}
	leader, err := c.Status().Leader()
	if err != nil || leader == "" {
		t.Fatalf("Status().Leader: %q %v", leader, err)
	}

	if _, _, err := jobs.Deregister("nomad-client", true, nil); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	waitFor(t, 60*time.Second, "the purged job to be gone", func() (bool, error) {
		_, _, err := jobs.Info("nomad-client", nil)
		return err != nil, nil
	})
	waitFor(t, 60*time.Second, "the allocation to stop", func() (bool, error) {
		a, _, err := c.Allocations().Info(allocs[0].ID, nil)
		if err != nil {
			return false, err
		}
		return a.ClientStatus == "complete", nil
	})
}
