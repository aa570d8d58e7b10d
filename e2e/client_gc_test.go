package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

const gcJob = `
job "e2e-gc" {
  datacenters = ["*"]
  type        = "batch"
  group "work" {
    count = 3
    task "echo" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        args  = ["echo", "done"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

// TestClientGarbageCollectsTerminalAllocs runs a client that keeps at most
// one allocation (gc_max_allocs = 1): of three finished batch allocations,
// the directories of two are removed, while the servers still list all
// three as complete.
func TestClientGarbageCollectsTerminalAllocs(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "agent.hcl")
	if err := os.WriteFile(cfg, []byte("client {\n  gc_interval = \"1s\"\n  gc_max_allocs = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "-config", cfg)
	if out, code := drover(t, a, "job", "run", writeJob(t, gcJob)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	var stubs []*structs.AllocListStub
	waitFor(t, 90*time.Second, "three complete allocations", func() (bool, error) {
		if err := getJSON(a.Addr+"/v1/job/e2e-gc/allocations", &stubs); err != nil {
			return false, err
		}
		done := 0
		for _, s := range stubs {
			if s.ClientStatus == structs.AllocClientStatusComplete {
				done++
			}
		}
		return done == 3, fmt.Errorf("%d of %d complete", done, len(stubs))
	})
	waitFor(t, 30*time.Second, "two allocation directories collected", func() (bool, error) {
		kept := 0
		for _, s := range stubs {
			resp, err := http.Get(a.Addr + "/v1/client/fs/ls/" + s.ID + "?path=/")
			if err != nil {
				return false, err
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				kept++
			}
		}
		return kept == 1, fmt.Errorf("%d directories kept", kept)
	})
	if err := getJSON(a.Addr+"/v1/job/e2e-gc/allocations", &stubs); err != nil || len(stubs) != 3 {
		t.Errorf("the servers list %d allocations (%v), want all 3", len(stubs), err)
	}
}
