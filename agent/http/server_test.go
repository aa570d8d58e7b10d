package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/structs"
)

// env is one API server over fakes.
type env struct {
	server *backendtest.Server
	client *backendtest.Client
	url    string
}

func newEnv(t *testing.T, configure ...func(*agenthttp.Config)) *env {
	t.Helper()
	e := &env{
		server: &backendtest.Server{Index: 7, LeaderAddr: "10.0.0.1:4747", PeerAddrs: []string{"10.0.0.1:4747", "10.0.0.2:4747"}},
		client: &backendtest.Client{Logs: map[string]*backendtest.LogBuffer{}},
	}
	cfg := agenthttp.Config{Server: e.server, Client: e.client, Agent: backendtest.Agent{"config": map[string]any{"Region": "global"}}}
	for _, c := range configure {
		c(&cfg)
	}
	ts := httptest.NewServer(agenthttp.New(cfg))
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// do sends a request and returns the response with its whole body.
func (e *env) do(t *testing.T, method, path, body string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}

// get expects 200 and decodes the JSON answer into out.
func (e *env) get(t *testing.T, path string, out any) *http.Response {
	t.Helper()
	resp, body := e.do(t, "GET", path, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %q", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("GET %s: decoding %q: %v", path, body, err)
	}
	return resp
}

// wantStatus checks a request's status and that its body says want.
func (e *env) wantStatus(t *testing.T, method, path, body string, status int, want string) {
	t.Helper()
	resp, got := e.do(t, method, path, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d (body %q)", method, path, resp.StatusCode, status, got)
	}
	if !strings.Contains(got, want) {
		t.Fatalf("%s %s: body %q does not say %q", method, path, got, want)
	}
}

func wantMeta(t *testing.T, resp *http.Response, index string) {
	t.Helper()
	h := resp.Header
	if h.Get("X-Nomad-Index") != index || h.Get("X-Nomad-KnownLeader") != "true" || h.Get("X-Nomad-LastContact") != "0" {
		t.Fatalf("meta headers: index %q known leader %q last contact %q, want index %q, true, 0",
			h.Get("X-Nomad-Index"), h.Get("X-Nomad-KnownLeader"), h.Get("X-Nomad-LastContact"), index)
	}
}

func testJob(id string) *structs.Job {
	return &structs.Job{ID: id, Name: id, Namespace: "default", Type: "service", TaskGroups: []*structs.TaskGroup{{
		Name: "web", Count: 1, Tasks: []*structs.Task{{Name: "app", Driver: "docker", Config: map[string]any{"image": "app:1"}}},
	}}}
}

func TestJobRegisterListAndGet(t *testing.T) {
	e := newEnv(t)
	body, _ := json.Marshal(structs.JobRegisterRequest{Job: testJob("web")})
	resp, out := e.do(t, "PUT", "/v1/jobs", string(body))
	if resp.StatusCode != 200 {
		t.Fatalf("register: %d %s", resp.StatusCode, out)
	}
	var reg structs.JobRegisterResponse
	if err := json.Unmarshal([]byte(out), &reg); err != nil || reg.EvalID != backendtest.ID(1) {
		t.Fatalf("register answered %s (%v)", out, err)
	}
	if resp.Header.Get("X-Nomad-Index") != "8" {
		t.Fatalf("register index header %q, want 8", resp.Header.Get("X-Nomad-Index"))
	}
	if _, out := e.do(t, "POST", "/v1/jobs", `{"Job": {"ID": "api"}}`); !strings.Contains(out, "EvalID") {
		t.Fatalf("POST /v1/jobs answered %s", out)
	}

	var jobs []*structs.JobListStub
	wantMeta(t, e.get(t, "/v1/jobs", &jobs), "9")
	if len(jobs) != 2 {
		t.Fatalf("listed %d jobs, want 2", len(jobs))
	}
	e.get(t, "/v1/jobs?prefix=we", &jobs)
	if len(jobs) != 1 || jobs[0].ID != "web" || jobs[0].JobSummary == nil {
		t.Fatalf("prefix list: %+v", jobs)
	}

	var job structs.Job
	wantMeta(t, e.get(t, "/v1/job/web", &job), "9")
	if job.ID != "web" || job.TaskGroups[0].Tasks[0].Config["image"] != "app:1" {
		t.Fatalf("got job %+v", job)
	}
	e.wantStatus(t, "GET", "/v1/job/nope", "", 404, `job "nope" not found`)
}

func TestEmptyListsAreJSONArrays(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v1/jobs", "/v1/allocations", "/v1/evaluations", "/v1/nodes", "/v1/job/x/allocations", "/v1/job/x/evaluations"} {
		if _, body := e.do(t, "GET", path, ""); strings.TrimSpace(body) != "[]" {
			t.Errorf("GET %s answered %q, want []", path, body)
		}
	}
}

func TestJobRegisterByID(t *testing.T) {
	e := newEnv(t)
	e.wantStatus(t, "PUT", "/v1/job/web", `{"Job": {"ID": "web"}}`, 200, "EvalID")
	e.wantStatus(t, "POST", "/v1/job/web", `{"Job": {"ID": "web"}}`, 200, "EvalID")
	e.wantStatus(t, "PUT", "/v1/job/web", `{"Job": {"ID": "db"}}`, 400, "Job ID does not match")
	e.wantStatus(t, "PUT", "/v1/jobs", `{"EnforceIndex": true}`, 400, "Job must be specified")

	// A job without a namespace goes to the one the request names.
	e.wantStatus(t, "PUT", "/v1/jobs?namespace=prod&region=east", `{"Job": {"ID": "ns"}}`, 200, "EvalID")
	regs := e.server.Registrations()
	last := regs[len(regs)-1].Job
	if last.Namespace != "prod" || last.Region != "east" {
		t.Fatalf("namespace %q region %q, want prod, east", last.Namespace, last.Region)
	}
}

func TestRequestBodies(t *testing.T) {
	e := newEnv(t)
	// Fields drover does not know are ignored: Nomad's client sends many.
	lenient := `{"Job": {"ID": "web", "Constraints": [{"LTarget": "x"}], "Update": {"MaxParallel": 1},
		"TaskGroups": [{"Name": "g", "Services": [], "Tasks": [{"Name": "t", "Vault": null}]}]},
		"Submission": {"Source": "job {}"}, "EvalPriority": 50}`
	e.wantStatus(t, "PUT", "/v1/jobs", lenient, 200, "EvalID")

	cases := []struct{ name, body, want string }{
		{"empty", "", "request body is empty"},
		{"syntax", "{\n  \"Job\": {\"ID\": \"web\",,}\n}", "line 2, column 23"},
		{"truncated", `{"Job": {"ID": "web"`, "ends before the value is complete"},
		{"type", "{\"Job\": {\n\"ID\": \"web\", \"Priority\": \"high\"}}", `field "Job.Priority" must be int, not a JSON string`},
		{"nested type", `{"Job": {"ID": "w", "TaskGroups": [{"Count": true}]}}`, `"Job.TaskGroups.Count"`},
		{"not an object", `[1, 2]`, "malformed JSON body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.wantStatus(t, "PUT", "/v1/jobs", c.body, 400, c.want)
		})
	}
}

func TestJobDeregister(t *testing.T) {
	e := newEnv(t)
	e.server.Jobs = []*structs.Job{testJob("web"), testJob("db")}
	e.wantStatus(t, "DELETE", "/v1/job/web", "", 200, "EvalID")
	e.wantStatus(t, "DELETE", "/v1/job/db?purge=true&namespace=prod", "", 200, "EvalID")
	e.wantStatus(t, "DELETE", "/v1/job/web?purge=maybe", "", 400, "invalid purge")
	e.wantStatus(t, "DELETE", "/v1/job/gone", "", 404, "not found")
	got := e.server.Deregistrations()
	want := []backendtest.Deregistration{{Namespace: "default", JobID: "web", Purge: false}, {Namespace: "prod", JobID: "db", Purge: true}, {Namespace: "default", JobID: "gone", Purge: false}}
	if len(got) != len(want) {
		t.Fatalf("deregistrations %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("deregistration %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// cluster fills the fake with a job, a node, an evaluation and two allocations.
func cluster(e *env) {
	e.server.Jobs = []*structs.Job{testJob("web")}
	e.server.Nodes = []*structs.Node{{ID: "node-1", Name: "n1", Datacenter: "dc1", Status: "ready", HTTPAddr: ""}, {ID: "node-2", Name: "n2"}}
	e.server.Evals = []*structs.Evaluation{{ID: "eval-1", JobID: "web", Status: "complete"}, {ID: "eval-2", JobID: "web", Status: "pending"}}
	e.server.Allocs = []*structs.Allocation{
		{ID: "alloc-1", JobID: "web", TaskGroup: "web", NodeID: "node-1", EvalID: "eval-1", ClientStatus: "running"},
		{ID: "alloc-2", JobID: "web", TaskGroup: "web", NodeID: "node-2", EvalID: "eval-2", ClientStatus: "pending"},
	}
}

func TestJobSubresources(t *testing.T) {
	e := newEnv(t)
	cluster(e)
	var allocs []*structs.AllocListStub
	wantMeta(t, e.get(t, "/v1/job/web/allocations?all=true", &allocs), "7")
	if len(allocs) != 2 {
		t.Fatalf("job allocations: %+v", allocs)
	}
	e.wantStatus(t, "GET", "/v1/job/web/allocations?all=yes", "", 400, "invalid all")

	var evals []*structs.Evaluation
	wantMeta(t, e.get(t, "/v1/job/web/evaluations", &evals), "7")
	if len(evals) != 2 {
		t.Fatalf("job evaluations: %+v", evals)
	}

	var sum structs.JobSummary
	wantMeta(t, e.get(t, "/v1/job/web/summary", &sum), "7")
	if sum.Summary["web"].Running != 1 || sum.Summary["web"].Starting != 1 {
		t.Fatalf("summary %+v", sum)
	}
	e.wantStatus(t, "GET", "/v1/job/nope/summary", "", 404, "not found")
}

func TestAllocationsEvaluationsNodes(t *testing.T) {
	e := newEnv(t)
	cluster(e)

	var allocs []*structs.AllocListStub
	wantMeta(t, e.get(t, "/v1/allocations?prefix=alloc-2", &allocs), "7")
	if len(allocs) != 1 || allocs[0].ID != "alloc-2" {
		t.Fatalf("alloc prefix list: %+v", allocs)
	}
	var alloc structs.Allocation
	wantMeta(t, e.get(t, "/v1/allocation/alloc-1", &alloc), "7")
	if alloc.NodeID != "node-1" {
		t.Fatalf("alloc %+v", alloc)
	}
	e.wantStatus(t, "GET", "/v1/allocation/nope", "", 404, "not found")

	var evals []*structs.Evaluation
	e.get(t, "/v1/evaluations", &evals)
	if len(evals) != 2 {
		t.Fatalf("evals %+v", evals)
	}
	var eval structs.Evaluation
	wantMeta(t, e.get(t, "/v1/evaluation/eval-2", &eval), "7")
	if eval.Status != "pending" {
		t.Fatalf("eval %+v", eval)
	}
	e.wantStatus(t, "GET", "/v1/evaluation/nope", "", 404, "not found")
	e.get(t, "/v1/evaluation/eval-1/allocations", &allocs)
	if len(allocs) != 1 || allocs[0].ID != "alloc-1" {
		t.Fatalf("eval allocations: %+v", allocs)
	}
	e.wantStatus(t, "GET", "/v1/evaluation/nope/allocations", "", 404, "not found")

	var nodes []*structs.NodeListStub
	wantMeta(t, e.get(t, "/v1/nodes?prefix=node-2", &nodes), "7")
	if len(nodes) != 1 || nodes[0].Name != "n2" {
		t.Fatalf("nodes %+v", nodes)
	}
	var node structs.Node
	e.get(t, "/v1/node/node-1", &node)
	if node.Datacenter != "dc1" {
		t.Fatalf("node %+v", node)
	}
	e.wantStatus(t, "GET", "/v1/node/nope", "", 404, "not found")
	var full []*structs.Allocation
	e.get(t, "/v1/node/node-2/allocations", &full)
	if len(full) != 1 || full[0].ID != "alloc-2" {
		t.Fatalf("node allocations %+v", full)
	}
	e.wantStatus(t, "GET", "/v1/node/nope/allocations", "", 404, "not found")
}

func TestStatusAndAgent(t *testing.T) {
	e := newEnv(t)
	var leader string
	wantMeta(t, e.get(t, "/v1/status/leader", &leader), "1")
	if leader != "10.0.0.1:4747" {
		t.Fatalf("leader %q", leader)
	}
	var peers []string
	e.get(t, "/v1/status/peers", &peers)
	if len(peers) != 2 {
		t.Fatalf("peers %v", peers)
	}
	var self map[string]map[string]any
	e.get(t, "/v1/agent/self", &self)
	if self["config"]["Region"] != "global" {
		t.Fatalf("self %v", self)
	}

	noAgent := newEnv(t, func(c *agenthttp.Config) { c.Agent = nil })
	noAgent.wantStatus(t, "GET", "/v1/agent/self", "", 200, "{}")
}

func TestQueryOptions(t *testing.T) {
	e := newEnv(t)
	e.get(t, "/v1/jobs?index=5&wait=10s&stale&namespace=prod&region=east&prefix=we", new([]any))
	got := e.server.LastQuery()
	want := structs.QueryOptions{Region: "east", Namespace: "prod", MinQueryIndex: 5, MaxQueryTime: 10 * time.Second, AllowStale: true, Prefix: "we"}
	if got != want {
		t.Fatalf("query options %+v, want %+v", got, want)
	}

	e.get(t, "/v1/nodes?index=3&wait=1h&stale=false", new([]any))
	got = e.server.LastQuery()
	want = structs.QueryOptions{Namespace: "default", MinQueryIndex: 3, MaxQueryTime: 5 * time.Minute}
	if got != want {
		t.Fatalf("capped query options %+v, want %+v", got, want)
	}

	// A blocking query that names no wait gets the default one.
	e.get(t, "/v1/allocations?index=3", new([]any))
	if got := e.server.LastQuery(); got.MaxQueryTime != 5*time.Minute {
		t.Fatalf("default wait %v", got.MaxQueryTime)
	}

	e.wantStatus(t, "GET", "/v1/jobs?index=-1", "", 400, "invalid index")
	e.wantStatus(t, "GET", "/v1/jobs?wait=soon", "", 400, "invalid wait")
	e.wantStatus(t, "GET", "/v1/jobs?stale=perhaps", "", 400, "invalid stale")
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	e.wantStatus(t, "DELETE", "/v1/jobs", "", 405, "Method Not Allowed")
	e.wantStatus(t, "POST", "/v1/allocations", "", 405, "Method Not Allowed")
	e.wantStatus(t, "PUT", "/v1/job/web/summary", "", 405, "Method Not Allowed")
	e.wantStatus(t, "GET", "/v1/nothing", "", 404, "not found")
	e.wantStatus(t, "GET", "/v2/jobs", "", 404, "not found")
}

// failingServer answers every job list with an error of a given kind.
type failingServer struct {
	*backendtest.Server
	err error
}

func (f failingServer) JobList(_ context.Context, _ *structs.QueryOptions) ([]*structs.JobListStub, structs.QueryMeta, error) {
	return nil, structs.QueryMeta{}, f.err
}

func TestBackendErrorStatus(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{structs.NotFound(errors.New("no such namespace")), 404},
		{structs.BadRequest(errors.New("bad filter")), 400},
		{structs.ErrNoLeader, 500},
		{errors.New("disk on fire"), 500},
	}
	for _, c := range cases {
		e := newEnv(t, func(cfg *agenthttp.Config) { cfg.Server = failingServer{&backendtest.Server{}, c.err} })
		e.wantStatus(t, "GET", "/v1/jobs", "", c.status, c.err.Error())
	}
}

func TestPrettyJSON(t *testing.T) {
	e := newEnv(t)
	_, body := e.do(t, "GET", "/v1/status/peers?pretty", "")
	if !strings.Contains(body, "[\n    \"10.0.0.1:4747\"") {
		t.Fatalf("pretty body %q", body)
	}
}

func FuzzRegisterBody(f *testing.F) {
	f.Add(`{"Job": {"ID": "web"}}`)
	f.Add(`{"Job": {"ID": 5}}`)
	f.Add(`{"Job": {"TaskGroups": [{"Count": "x"}]}}`)
	f.Add("{\n\"Job\":")
	handler := agenthttp.New(agenthttp.Config{Server: &backendtest.Server{}})
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("PUT", "/v1/job/web", strings.NewReader(body))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("body %q: status %d (%s)", body, rec.Code, rec.Body)
		}
	})
}

func TestNoServer(t *testing.T) {
	e := newEnv(t, func(c *agenthttp.Config) { c.Server = nil })
	e.wantStatus(t, "GET", "/v1/jobs", "", 500, "runs no server")
	e.wantStatus(t, "PUT", "/v1/jobs", `{"Job": {"ID": "x"}}`, 500, "runs no server")
	e.client.Logs[backendtest.LogKey("a1", "app", "stdout")] = backendtest.NewLogBuffer("local\n")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a1?task=app&plain=true", "", 200, "local")
	e.wantStatus(t, "GET", "/v1/client/fs/logs/a2?task=app", "", 404, "no stdout log")
}
