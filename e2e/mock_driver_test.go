package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

const mockJob = `
job "e2e-mock" {
  type = "batch"
  group "g" {
    count = 3
    task "t" {
      driver = "mock_driver"
      config {
        run_for   = "200ms"
        exit_code = 0
      }
      resources {
        cpu    = 10
        memory = 10
      }
    }
  }
}
`

// TestMockDriverIsOptIn runs Nomad's mock_driver only on an agent started
// with -enable-mock-driver; elsewhere the job cannot be placed.
func TestMockDriverIsOptIn(t *testing.T) {
	plain := startAgent(t)
	out, code := drover(t, plain, "job", "run", writeJob(t, mockJob))
	if code != 2 || !strings.Contains(out, "missing drivers") {
		t.Fatalf("without the flag: exit %d, want 2 and missing drivers:\n%s", code, out)
	}

	a := startAgent(t, "-enable-mock-driver")
	if out, code := drover(t, a, "job", "run", writeJob(t, mockJob)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	waitAllocsStatus(t, a.Addr, "e2e-mock", 3, "complete")
}

// waitAllocsStatus waits for n allocations of a job with the client status.
func waitAllocsStatus(t *testing.T, addr, jobID string, n int, status string) {
	t.Helper()
	waitFor(t, 60*time.Second, fmt.Sprintf("%d %s allocations of %s", n, status, jobID), func() (bool, error) {
		var stubs []*structs.AllocListStub
		if err := getJSON(addr+"/v1/job/"+jobID+"/allocations", &stubs); err != nil {
			return false, err
		}
		got := 0
		for _, s := range stubs {
			if s.ClientStatus == status {
				got++
			}
		}
		return got == n, fmt.Errorf("%d of %d allocations %s", got, len(stubs), status)
	})
}
