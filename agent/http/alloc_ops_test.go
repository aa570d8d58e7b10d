package http_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// opsClient is a client that runs allocation "a1" with task "app".
type opsClient struct {
	*backendtest.Client
	restarted []string
	signals   []string
}

func (c *opsClient) AllocDir(allocID string) (string, error) {
	if allocID != "a1" {
		return "", structs.NotFound(fmt.Errorf("allocation %q not found", allocID))
	}
	return "/data/alloc/a1", nil
}

func (c *opsClient) RestartAlloc(allocID, task string) error {
	c.restarted = append(c.restarted, task)
	return nil
}

func (c *opsClient) SignalAlloc(_ context.Context, allocID, task, sig string) error {
	c.signals = append(c.signals, task+":"+sig)
	return nil
}

// ExecAlloc runs "echo", "cat" (stdin to stdout) and "fail" (stderr, exit 3).
func (c *opsClient) ExecAlloc(_ context.Context, allocID, task string, opts *agenthttp.ExecOptions) (int, error) {
	if task != "app" {
		return 0, structs.NotFound(errors.New("no such task"))
	}
	switch opts.Command[0] {
	case "echo":
		fmt.Fprintln(opts.Stdout, strings.Join(opts.Command[1:], " "))
		return 0, nil
	case "cat":
		_, err := io.Copy(opts.Stdout, opts.Stdin)
		return 0, err
	case "fail":
		fmt.Fprintln(opts.Stderr, "it failed")
		return 3, nil
	}
	return 0, errors.New("driver could not start the command")
}

func (c *opsClient) AllocStats(_ context.Context, allocID, task string) (*structs.AllocResourceUsage, error) {
	return &structs.AllocResourceUsage{ResourceUsage: &structs.ResourceUsage{MemoryStats: &structs.MemoryStats{RSS: 42}}}, nil
}

func (c *opsClient) HostStats(context.Context) (*structs.HostStats, error) {
	return &structs.HostStats{Memory: &structs.HostMemoryStats{Total: 100}}, nil
}

func (c *opsClient) StatFile(allocID, path string) (*structs.AllocFileInfo, error) {
	if strings.Contains(path, "..") {
		return nil, structs.BadRequest(errors.New("path leaves the allocation directory"))
	}
	return &structs.AllocFileInfo{Name: "hello.txt", Size: 3}, nil
}

func (c *opsClient) ListDir(allocID, path string) ([]*structs.AllocFileInfo, error) {
	return []*structs.AllocFileInfo{{Name: "alloc", IsDir: true}}, nil
}

func (c *opsClient) OpenFile(allocID, path string) (io.ReadCloser, *structs.AllocFileInfo, error) {
	if strings.Contains(path, "..") {
		return nil, nil, structs.BadRequest(errors.New("path leaves the allocation directory"))
	}
	return io.NopCloser(strings.NewReader("hi\n")), &structs.AllocFileInfo{Name: "hello.txt", Size: 3}, nil
}

func newOpsEnv(t *testing.T) (*env, *opsClient, *api.Client) {
	t.Helper()
	ops := &opsClient{Client: &backendtest.Client{}}
	e := newEnv(t, func(c *agenthttp.Config) { c.Client = ops })
	client, err := api.NewClient(&api.Config{Address: e.url})
	if err != nil {
		t.Fatal(err)
	}
	return e, ops, client
}

func TestAllocExecOverWebsocket(t *testing.T) {
	_, _, client := newOpsEnv(t)
	var out, errOut strings.Builder
	code, err := client.Allocations().Exec(context.Background(), "a1",
		&api.ExecRequest{Task: "app", Command: []string{"echo", "hello", "there"}, Stdout: &out, Stderr: &errOut})
	if err != nil || code != 0 || out.String() != "hello there\n" {
		t.Errorf("echo: code %d, err %v, out %q", code, err, out.String())
	}

	out.Reset()
	code, err = client.Allocations().Exec(context.Background(), "a1",
		&api.ExecRequest{Task: "app", Command: []string{"cat"}, Stdin: strings.NewReader("piped in\n"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "piped in\n" {
		t.Errorf("cat: code %d, err %v, out %q", code, err, out.String())
	}

	code, err = client.Allocations().Exec(context.Background(), "a1",
		&api.ExecRequest{Task: "app", Command: []string{"fail"}, Stderr: &errOut})
	if err != nil || code != 3 || errOut.String() != "it failed\n" {
		t.Errorf("fail: code %d, err %v, stderr %q", code, err, errOut.String())
	}

	_, err = client.Allocations().Exec(context.Background(), "a1", &api.ExecRequest{Task: "app", Command: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), "driver could not start the command") {
		t.Errorf("a command the driver cannot run: %v", err)
	}
	_, err = client.Allocations().Exec(context.Background(), "a1", &api.ExecRequest{Task: "", Command: []string{"echo"}})
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("exec without a task: %v, want a 400", err)
	}
}

func TestAllocRestartSignalStatsFS(t *testing.T) {
	e, ops, client := newOpsEnv(t)
	if err := client.Allocations().Restart("a1", "app"); err != nil {
		t.Fatal(err)
	}
	if err := client.Allocations().Signal("a1", "app", "SIGHUP"); err != nil {
		t.Fatal(err)
	}
	if len(ops.restarted) != 1 || ops.restarted[0] != "app" || len(ops.signals) != 1 || ops.signals[0] != "app:SIGHUP" {
		t.Errorf("restarted %v, signals %v", ops.restarted, ops.signals)
	}
	stats, err := client.Allocations().Stats("a1", nil)
	if err != nil || stats.ResourceUsage.MemoryStats.RSS != 42 {
		t.Errorf("stats %+v, %v", stats, err)
	}
	files, err := client.AllocFS().List("a1", "/", nil)
	if err != nil || len(files) != 1 || files[0].Name != "alloc" {
		t.Errorf("ls %+v, %v", files, err)
	}
	r, err := client.AllocFS().Cat("a1", "alloc/hello.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	if string(data) != "hi\n" {
		t.Errorf("cat %q", data)
	}
	resp, body := e.do(t, "GET", "/v1/client/fs/cat/a1?path=../../etc/passwd", "")
	if resp.StatusCode != 400 || !strings.Contains(body, "leaves the allocation directory") {
		t.Errorf("traversal: %d %q", resp.StatusCode, body)
	}
	resp, _ = e.do(t, "PUT", "/v1/client/allocation/a1/restart", "{not json")
	if resp.StatusCode != 400 {
		t.Errorf("malformed restart body: %d", resp.StatusCode)
	}
	hs, err := client.Nodes().Stats("", nil)
	if err != nil || hs.Memory.Total != 100 {
		t.Errorf("host stats %+v, %v", hs, err)
	}
}

// An agent whose client does not run the allocation forwards the client
// routes, the exec websocket included, to the allocation's node.
func TestAllocOpsForwardedToTheAllocationsNode(t *testing.T) {
	node, ops, _ := newOpsEnv(t)
	nodeURL, _ := url.Parse(node.url)
	server := newEnv(t, func(c *agenthttp.Config) { c.Client = nil })
	server.server.Nodes = []*structs.Node{{ID: "n1", HTTPAddr: nodeURL.Host}}
	server.server.Allocs = []*structs.Allocation{{ID: "a1", NodeID: "n1"}}
	client, err := api.NewClient(&api.Config{Address: server.url})
	if err != nil {
		t.Fatal(err)
	}

	var out strings.Builder
	code, err := client.Allocations().Exec(context.Background(), "a1",
		&api.ExecRequest{Task: "app", Command: []string{"cat"}, Stdin: strings.NewReader("through the server\n"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "through the server\n" {
		t.Errorf("forwarded exec: code %d, err %v, out %q", code, err, out.String())
	}
	if err := client.Allocations().Restart("a1", "app"); err != nil || len(ops.restarted) != 1 {
		t.Errorf("forwarded restart: %v, restarts %v", err, ops.restarted)
	}
	files, err := client.AllocFS().List("a1", "/", nil)
	if err != nil || len(files) != 1 {
		t.Errorf("forwarded ls: %+v, %v", files, err)
	}
	server.wantStatus(t, "GET", "/v1/client/fs/ls/zz", "", 404, `allocation "zz" not found`)
}
