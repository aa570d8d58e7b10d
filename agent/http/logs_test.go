package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/structs"
)

type frame struct {
	Offset    int64
	Data      []byte
	File      string
	FileEvent string
}

func (f frame) heartbeat() bool {
	return f.Offset == 0 && len(f.Data) == 0 && f.File == "" && f.FileEvent == ""
}

// readFrames decodes a whole framed stream.
func readFrames(t *testing.T, body string) (data string, frames []frame) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	for {
		var f frame
		err := dec.Decode(&f)
		if errors.Is(err, io.EOF) {
			return data, frames
		}
		if err != nil {
			t.Fatalf("decoding frames of %q: %v", body, err)
		}
		data += string(f.Data)
		frames = append(frames, f)
	}
}

func TestLogsFramedAndPlain(t *testing.T) {
	e := newEnv(t)
	e.client.Logs[backendtest.LogKey("a1", "app", "stdout")] = backendtest.NewLogBuffer("hello\nworld\n")
	e.client.Logs[backendtest.LogKey("a1", "app", "stderr")] = backendtest.NewLogBuffer("oops\n")

	resp, body := e.do(t, "GET", "/v1/client/fs/logs/a1?task=app&type=stdout", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	data, frames := readFrames(t, body)
	if data != "hello\nworld\n" {
		t.Fatalf("framed data %q", data)
	}
	last := frames[len(frames)-1]
	if last.Offset != 12 || last.File != "alloc/logs/app.stdout.0" {
		t.Fatalf("last frame %+v, want offset 12 and file alloc/logs/app.stdout.0", last)
	}

	cases := []struct{ query, want string }{
		{"task=app&type=stdout&plain=true", "hello\nworld\n"},
		{"task=app&plain=true", "hello\nworld\n"}, // stdout is the default
		{"task=app&type=stderr&plain=true", "oops\n"},
		{"task=app&type=stdout&plain=true&origin=end&offset=6", "world\n"},
		{"task=app&type=stdout&plain=true&origin=start&offset=6", "world\n"},
		{"task=app&type=stdout&plain=true&origin=end&offset=100", "hello\nworld\n"},
		{"task=app&type=stdout&plain=true&offset=100", ""},
	}
	for _, c := range cases {
		resp, body := e.do(t, "GET", "/v1/client/fs/logs/a1?"+c.query, "")
		if resp.StatusCode != 200 || body != c.want {
			t.Errorf("?%s: status %d body %q, want %q", c.query, resp.StatusCode, body, c.want)
		}
	}
}

func TestLogsBadRequests(t *testing.T) {
	e := newEnv(t)
	e.client.Logs[backendtest.LogKey("a1", "app", "stdout")] = backendtest.NewLogBuffer("x")
	e.server.Allocs = []*structs.Allocation{{ID: "a1", NodeID: "n1"}}
	e.server.Nodes = []*structs.Node{{ID: "n1"}}
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1", "", 400, "must include task name")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=app&type=stdin", "", 400, "invalid log type")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=app&origin=middle", "", 400, "invalid origin")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=app&offset=-3", "", 400, "invalid offset")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=app&follow=often", "", 400, "invalid follow")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/nope?task=app", "", 404, `allocation "nope" not found`)
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=db", "", 404, "no stdout log of task")
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLogsFollow(t *testing.T) {
	e := newEnv(t, func(c *agenthttp.Config) { c.LogHeartbeat = 20 * time.Millisecond })
	buf := backendtest.NewLogBuffer("first\n")
	e.client.Logs[backendtest.LogKey("a1", "app", "stdout")] = buf

	resp, err := http.Get(e.url + "/v1/client/fs/logs/a1?task=app&follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	next := func() frame {
		t.Helper()
		var f frame
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("next frame: %v", err)
		}
		return f
	}
	nextData := func() frame {
		t.Helper()
		for {
			if f := next(); !f.heartbeat() {
				return f
			}
		}
	}

	if f := nextData(); string(f.Data) != "first\n" || f.Offset != 6 {
		t.Fatalf("first frame %+v", f)
	}
	// Nothing new for a heartbeat interval: an empty frame says the stream lives.
	if f := next(); !f.heartbeat() {
		t.Fatalf("want a heartbeat, got %+v", f)
	}
	waitFor(t, "the stream to wait for more", func() bool { return buf.Waiting() > 0 })
	buf.Write([]byte("second\n"))
	if f := nextData(); string(f.Data) != "second\n" || f.Offset != 13 {
		t.Fatalf("second frame %+v", f)
	}
	buf.Write([]byte("last\n"))
	buf.Finish()
	if f := nextData(); string(f.Data) != "last\n" {
		t.Fatalf("last frame %+v", f)
	}
	for {
		var f frame
		err := dec.Decode(&f)
		if errors.Is(err, io.EOF) {
			break // a finished task ends the stream
		}
		if err != nil || !f.heartbeat() {
			t.Fatalf("after the end: frame %+v, error %v", f, err)
		}
	}
}

func TestLogsForwardedToTheAllocationsNode(t *testing.T) {
	// The node runs the allocation and serves its logs.
	node := newEnv(t)
	node.client.Logs[backendtest.LogKey("a1", "app", "stdout")] = backendtest.NewLogBuffer("from the node\n")
	nodeURL, _ := url.Parse(node.url)

	// The server runs no client and knows where the allocation is.
	server := newEnv(t, func(c *agenthttp.Config) { c.Client = nil })
	server.server.Nodes = []*structs.Node{{ID: "n1", HTTPAddr: nodeURL.Host}, {ID: "n2"}}
	server.server.Allocs = []*structs.Allocation{{ID: "a1", NodeID: "n1"}, {ID: "a2", NodeID: "n2"}}

	resp, body := server.do(t, "GET", "/v1/client/fs/logs/a1?task=app&plain=true", "")
	if resp.StatusCode != 200 || body != "from the node\n" {
		t.Fatalf("forwarded logs: status %d body %q", resp.StatusCode, body)
	}
	server.wantStatus(t, "GET", "/v1/client/fs/logs/zz?task=app", "", 404, `allocation "zz" not found`)
	// A node without an HTTP address cannot be asked.
	server.wantStatus(t, "GET", "/v1/client/fs/logs/a2?task=app", "", 404, "runs no client")

	// A node that does not have the log answers 404 rather than forwarding
	// to itself again.
	node.server.Nodes = []*structs.Node{{ID: "n1", HTTPAddr: nodeURL.Host}}
	node.server.Allocs = []*structs.Allocation{{ID: "a1", NodeID: "n1"}}
	node.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=db", "", 404, "no stdout log")
}
