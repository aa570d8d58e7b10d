package command

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/internal/snapshotfile"
	"github.com/drover-project/drover/structs"
)

// fakeOperator answers the operator routes from fixed data.
type fakeOperator struct {
	archive  []byte
	removed  string
	restored []byte
}

func (f *fakeOperator) RaftConfiguration(context.Context) (*structs.RaftConfiguration, error) {
	return &structs.RaftConfiguration{Index: 9, Servers: []*structs.RaftServer{
		{ID: "id-1", Node: "s1", Address: "10.0.0.1:4747", Leader: true, Voter: true, RaftProtocol: "3"},
		{ID: "id-2", Node: "s2", Address: "10.0.0.2:4747", Voter: true, RaftProtocol: "3"},
	}}, nil
}
func (f *fakeOperator) RemoveRaftPeer(_ context.Context, address, id string) error {
	f.removed = address + id
	return nil
}
func (f *fakeOperator) TransferLeadership(context.Context, string) error { return nil }
func (f *fakeOperator) SnapshotSave(_ context.Context, w io.Writer, _ bool) (uint64, error) {
	_, err := w.Write(f.archive)
	return 0, err
}
func (f *fakeOperator) SnapshotRestore(_ context.Context, r io.Reader) error {
	var err error
	f.restored, err = io.ReadAll(r)
	return err
}

func newOperatorEnv(t *testing.T) *fakeOperator {
	t.Helper()
	op := &fakeOperator{archive: testArchive(t)}
	ts := httptest.NewServer(agenthttp.New(agenthttp.Config{Operator: op}))
	t.Cleanup(ts.Close)
	t.Setenv(api.AddressEnv, ts.URL)
	return op
}

func testArchive(t *testing.T) []byte {
	t.Helper()
	state := "{\"Format\":\"drover-fsm-snapshot\",\"Version\":1}\n"
	size, sum, err := snapshotfile.Checksum(strings.NewReader(state))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	meta := snapshotfile.Meta{
		ID: "2-40-1", Index: 40, Term: 2, Size: size, SHA256: sum, CreatedAt: time.Unix(0, 0).UTC(),
		Tables: map[string]snapshotfile.TableStats{"Job": {Count: 3, Size: 3000}, "Alloc": {Count: 6, Size: 9000}},
	}
	if err := snapshotfile.Write(&buf, meta, strings.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestOperatorRaftListPeers(t *testing.T) {
	newOperatorEnv(t)
	runCLI(t, "", "operator", "raft", "list-peers").want(t, 0,
		"Node  ID    Address        State     Voter  RaftProtocol",
		"s1    id-1  10.0.0.1:4747  leader    true   3",
		"s2    id-2  10.0.0.2:4747  follower  true   3")
}

func TestOperatorRaftRemovePeer(t *testing.T) {
	op := newOperatorEnv(t)
	runCLI(t, "", "operator", "raft", "remove-peer").want(t, 1, "Give exactly one of -peer-address and -peer-id")
	runCLI(t, "", "operator", "raft", "remove-peer", "-peer-id=a", "-peer-address=b").want(t, 1, "Give exactly one")
	runCLI(t, "", "operator", "raft", "remove-peer", "-peer-address=10.0.0.2:4747").want(t, 0, "Removed peer 10.0.0.2:4747")
	if op.removed != "10.0.0.2:4747" {
		t.Fatalf("removed %q", op.removed)
	}
}

func TestOperatorSnapshotSaveInspectRestore(t *testing.T) {
	op := newOperatorEnv(t)
	file := filepath.Join(t.TempDir(), "backup.snap")
	runCLI(t, "", "operator", "snapshot", "save", file).want(t, 0, "State file written to "+file+" (index 40)")

	r := runCLI(t, "", "operator", "snapshot", "inspect", file)
	r.want(t, 0, "Index   = 40", "Term    = 2", "ID      = 2-40-1", "Version = 1",
		"Type   Count  Size", "Alloc  6      8.8 KiB", "Job    3      2.9 KiB", "Total  9      11.7 KiB")
	if strings.Index(r.stdout, "Alloc") > strings.Index(r.stdout, "Job ") {
		t.Errorf("tables not largest first:\n%s", r.stdout)
	}

	runCLI(t, "", "operator", "snapshot", "restore", file).want(t, 0, "Snapshot restored")
	if !bytes.Equal(op.restored, op.archive) {
		t.Fatal("the restore did not send the file as it is")
	}
}

func TestOperatorSnapshotSaveLeavesNoFileWhenTheArchiveIsBad(t *testing.T) {
	op := newOperatorEnv(t)
	op.archive = op.archive[:len(op.archive)/2]
	file := filepath.Join(t.TempDir(), "backup.snap")
	runCLI(t, "", "operator", "snapshot", "save", file).want(t, 1, "Error saving snapshot")
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 0 {
		t.Fatalf("files left behind: %v", entries)
	}
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	runCLI(t, "", "operator", "snapshot", "inspect", junk).want(t, 1, "not a drover snapshot archive")
	runCLI(t, "", "operator", "snapshot", "restore", junk).want(t, 1, "not a drover snapshot archive")
	if op.restored != nil {
		t.Fatal("a junk file was sent")
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 5 << 40: "5120.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
