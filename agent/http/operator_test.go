package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/structs"
)

// fakeOperator records the operator calls it gets.
type fakeOperator struct {
	removed  []string
	leader   string
	restored string
}

func (f *fakeOperator) RaftConfiguration(ctx context.Context) (*structs.RaftConfiguration, error) {
	return &structs.RaftConfiguration{Index: 12, Servers: []*structs.RaftServer{
		{ID: "id-1", Node: "s1", Address: "10.0.0.1:4747", Leader: true, Voter: true, RaftProtocol: "3"},
		{ID: "id-2", Node: "s2", Address: "10.0.0.2:4747", Voter: true, RaftProtocol: "3"},
	}}, nil
}

func (f *fakeOperator) RemoveRaftPeer(ctx context.Context, address, id string) error {
	if id == "missing" {
		return structs.NotFound(fmt.Errorf("no raft peer has id %q", id))
	}
	f.removed = append(f.removed, address+id)
	return nil
}

func (f *fakeOperator) TransferLeadership(ctx context.Context, id string) error {
	f.leader = id
	return nil
}

func (f *fakeOperator) SnapshotSave(ctx context.Context, w io.Writer, stale bool) (uint64, error) {
	if stale {
		return 0, errors.New("stale snapshot failed before streaming")
	}
	_, err := io.WriteString(w, "archive")
	return 5, err
}

func (f *fakeOperator) SnapshotRestore(ctx context.Context, r io.Reader) error {
	b, err := io.ReadAll(r)
	if string(b) == "garbage" {
		return structs.BadRequest(errors.New("not a drover snapshot archive"))
	}
	f.restored = string(b)
	return err
}

func TestOperatorRaftRoutes(t *testing.T) {
	op := &fakeOperator{}
	e := newEnv(t, func(c *agenthttp.Config) { c.Operator = op })

	resp, body := e.do(t, "GET", "/v1/operator/raft/configuration", "")
	if resp.StatusCode != 200 || resp.Header.Get("X-Nomad-Index") != "12" {
		t.Fatalf("configuration: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	var conf map[string]any
	if err := json.Unmarshal([]byte(body), &conf); err != nil {
		t.Fatal(err)
	}
	first := conf["Servers"].([]any)[0].(map[string]any)
	for _, k := range []string{"ID", "Node", "Address", "Leader", "Voter", "RaftProtocol"} {
		if _, ok := first[k]; !ok {
			t.Errorf("server entry lacks %q: %v", k, first)
		}
	}

	if resp, body := e.do(t, "DELETE", "/v1/operator/raft/peer?address=10.0.0.2:4747", ""); resp.StatusCode != 200 {
		t.Fatalf("remove by address: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "DELETE", "/v1/operator/raft/peer?id=missing", ""); resp.StatusCode != 404 {
		t.Fatalf("remove unknown: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "DELETE", "/v1/operator/raft/peer", ""); resp.StatusCode != 400 || !strings.Contains(body, "exactly one") {
		t.Fatalf("remove nobody: %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "DELETE", "/v1/operator/raft/peer?id=a&address=b", ""); resp.StatusCode != 400 {
		t.Fatalf("remove two: %d %s, want 400", resp.StatusCode, body)
	}
	if len(op.removed) != 1 || op.removed[0] != "10.0.0.2:4747" {
		t.Fatalf("removed %v", op.removed)
	}

	if resp, body := e.do(t, "PUT", "/v1/operator/raft/transfer-leadership?address=10.0.0.2:4747", ""); resp.StatusCode != 200 || op.leader != "id-2" {
		t.Fatalf("transfer by address: %d %s, leader %q", resp.StatusCode, body, op.leader)
	}
	if resp, _ := e.do(t, "PUT", "/v1/operator/raft/transfer-leadership?address=10.9.9.9:1", ""); resp.StatusCode != 404 {
		t.Fatalf("transfer to an unknown address: %d, want 404", resp.StatusCode)
	}
}

func TestOperatorSnapshotRoutes(t *testing.T) {
	op := &fakeOperator{}
	e := newEnv(t, func(c *agenthttp.Config) { c.Operator = op })

	resp, body := e.do(t, "GET", "/v1/operator/snapshot", "")
	if resp.StatusCode != 200 || body != "archive" || resp.Header.Get("Content-Type") != "application/x-gzip" {
		t.Fatalf("save: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, body := e.do(t, "GET", "/v1/operator/snapshot?stale", ""); resp.StatusCode != 500 || !strings.Contains(body, "before streaming") {
		t.Fatalf("failed save: %d %q, want 500 with the error", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "PUT", "/v1/operator/snapshot", "the archive"); resp.StatusCode != 200 || op.restored != "the archive" {
		t.Fatalf("restore: %d %s, restored %q", resp.StatusCode, body, op.restored)
	}
	if resp, _ := e.do(t, "PUT", "/v1/operator/snapshot", "garbage"); resp.StatusCode != 400 {
		t.Fatalf("restore of garbage: %d, want 400", resp.StatusCode)
	}
}

func TestOperatorRoutesWithoutServer(t *testing.T) {
	e := newEnv(t)
	if resp, body := e.do(t, "GET", "/v1/operator/raft/configuration", ""); resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "runs no server") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
}
