package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// secretsJob prints the task's mount table, as the container sees it.
const secretsJob = `
job "e2e-secrets" {
  datacenters = ["*"]
  type        = "batch"
  group "work" {
    count = 2
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        args  = ["cat", "/proc/mounts"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

// TestSecretsDirIsTmpfs: a task sees /secrets as a tmpfs (noexec, nosuid,
// nodev), mounted on the host at the task's secrets directory by the
// client, which runs as root here; when the client collects a finished
// allocation (gc_max_allocs = 1), the mount goes with its directory.
func TestSecretsDirIsTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the client mounts the tmpfs only as root")
	}
	cfg := filepath.Join(t.TempDir(), "agent.hcl")
	if err := os.WriteFile(cfg, []byte("client {\n  gc_interval = \"1s\"\n  gc_max_allocs = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "-config", cfg)
	if out, code := drover(t, a, "job", "run", writeJob(t, secretsJob)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	var stubs []*structs.AllocListStub
	waitFor(t, 90*time.Second, "two complete allocations", func() (bool, error) {
		if err := getJSON(a.Addr+"/v1/job/e2e-secrets/allocations", &stubs); err != nil {
			return false, err
		}
		done := 0
		for _, s := range stubs {
			if s.ClientStatus == structs.AllocClientStatusComplete {
				done++
			}
		}
		return done == 2, fmt.Errorf("%d of %d complete", done, len(stubs))
	})

	// What the task saw: read the log of an allocation the client keeps.
	var kept *structs.AllocListStub
	var seen string
	waitFor(t, 30*time.Second, "one allocation's directory collected", func() (bool, error) {
		kept, seen = nil, ""
		for _, s := range stubs {
			out, code := drover(t, a, "alloc", "logs", s.ID, "app")
			if code == 0 {
				kept, seen = s, out
			}
		}
		return kept != nil && countKept(t, a.DataDir, stubs) == 1, fmt.Errorf("%d directories kept", countKept(t, a.DataDir, stubs))
	})
	line := mountLine(seen, "/secrets")
	if line == nil {
		t.Fatalf("the task's /proc/mounts has no /secrets:\n%s", seen)
	}
	if line[2] != "tmpfs" {
		t.Errorf("the task sees /secrets as %s, want tmpfs: %v", line[2], line)
	}
	for _, opt := range []string{"noexec", "nosuid", "nodev"} {
		if !strings.Contains(","+line[3]+",", ","+opt+",") {
			t.Errorf("/secrets mounted with %s, lacks %s", line[3], opt)
		}
	}
	// The shared alloc/ and local/ stay on disk.
	if l := mountLine(seen, "/local"); l == nil || l[2] == "tmpfs" {
		t.Errorf("/local is %v, want a bind of a directory on disk", l)
	}

	hostMounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stubs {
		secrets := filepath.Join(a.DataDir, "client", "alloc", s.ID, "app", "secrets")
		l := mountLine(string(hostMounts), secrets)
		switch {
		case s.ID == kept.ID && (l == nil || l[2] != "tmpfs"):
			t.Errorf("the kept allocation's %s is not a tmpfs on the host: %v", secrets, l)
		case s.ID != kept.ID && l != nil:
			t.Errorf("the collected allocation's %s is still mounted: %v", secrets, l)
		}
	}
	if strings.Contains(a.Log(), "not tmpfs") {
		t.Errorf("the agent, root, warns that secrets is not a tmpfs")
	}
}

// countKept counts the allocations whose directory is on disk.
func countKept(t *testing.T, dataDir string, stubs []*structs.AllocListStub) int {
	t.Helper()
	n := 0
	for _, s := range stubs {
		if _, err := os.Stat(filepath.Join(dataDir, "client", "alloc", s.ID)); err == nil {
			n++
		}
	}
	return n
}

// mountLine is the fields of the line of a mount table whose mount point
// is target, or nil.
func mountLine(table, target string) []string {
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 3 && f[1] == target {
			return f
		}
	}
	return nil
}
