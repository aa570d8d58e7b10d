package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// A job no node can take (no such datacenter): it is stored and evaluated,
// but starts no container.
const parkedJob = `
job "%s" {
  datacenters = ["nowhere"]
  group "g" {
    task "t" {
      driver = "docker"
      config { image = "drover-demo:v1" }
    }
  }
}
`

// TestOperatorSnapshotSaveInspectRestore drives `drover operator snapshot
// save`, `inspect` and `restore` against a dev agent: a restore brings the
// state back to the snapshot's, dropping what was written after it.
func TestOperatorSnapshotSaveInspectRestore(t *testing.T) {
	a := startAgent(t)
	prefix := fmt.Sprintf("snap-%d", os.Getpid())
	before, after := prefix+"-before", prefix+"-after"

	if out, code := drover(t, a, "job", "run", "-detach", writeJob(t, fmt.Sprintf(parkedJob, before))); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "backup.snap")
	out, code := drover(t, a, "operator", "snapshot", "save", file)
	if code != 0 || !strings.Contains(out, "State file written to "+file) {
		t.Fatalf("snapshot save exited %d:\n%s", code, out)
	}

	out, code = drover(t, a, "operator", "snapshot", "inspect", file)
	if code != 0 {
		t.Fatalf("snapshot inspect exited %d:\n%s", code, out)
	}
	for _, want := range []string{`(?m)^Index\s+= [1-9]\d*$`, `(?m)^Term\s+= [1-9]\d*$`, `(?m)^Size\s+= \d`, `(?m)^Job\s+1\s`, `(?m)^Node\s+1\s`, `(?m)^Eval\s+[1-9]`, `(?m)^Total\s+\d+`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("inspect output lacks %s:\n%s", want, out)
		}
	}

	if out, code := drover(t, a, "job", "run", "-detach", writeJob(t, fmt.Sprintf(parkedJob, after))); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	if out, code := drover(t, a, "operator", "snapshot", "restore", file); code != 0 || !strings.Contains(out, "Snapshot restored") {
		t.Fatalf("snapshot restore exited %d:\n%s", code, out)
	}
	var jobs []*structs.JobListStub
	if err := getJSON(a.Addr+"/v1/jobs", &jobs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	if len(ids) != 1 || ids[0] != before {
		t.Fatalf("jobs after restore: %v, want only %s", ids, before)
	}
	// The restored agent carries on taking writes.
	waitFor(t, 10*time.Second, "a write after the restore", func() (bool, error) {
		_, code := drover(t, a, "job", "run", "-detach", writeJob(t, fmt.Sprintf(parkedJob, after)))
		return code == 0, nil
	})

	// A file that is not a snapshot is refused before it is sent.
	junk := filepath.Join(t.TempDir(), "junk.snap")
	if err := os.WriteFile(junk, []byte("not a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := drover(t, a, "operator", "snapshot", "restore", junk); code == 0 || !strings.Contains(out, "not a drover snapshot") {
		t.Fatalf("restore of junk exited %d:\n%s", code, out)
	}
}

// TestOperatorRaftListPeers lists the one peer of a dev agent in Nomad's
// columns.
func TestOperatorRaftListPeers(t *testing.T) {
	a := startAgent(t)
	out, code := drover(t, a, "operator", "raft", "list-peers")
	if code != 0 {
		t.Fatalf("list-peers exited %d:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "Node ID Address State Voter RaftProtocol" {
		t.Fatalf("list-peers output:\n%s", out)
	}
	if f := strings.Fields(lines[1]); len(f) != 6 || f[3] != "leader" || f[4] != "true" || f[5] != "3" {
		t.Fatalf("list-peers row: %q", lines[1])
	}
	// Nobody to hand leadership to: the operator's mistake, said plainly.
	out, code = drover(t, a, "operator", "raft", "transfer-leadership")
	if code == 0 || !strings.Contains(out, "400") || !strings.Contains(out, "no other voting server") {
		t.Fatalf("transfer-leadership on one server exited %d:\n%s", code, out)
	}
}
