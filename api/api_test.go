package api_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// newClient starts the real HTTP API over fakes and returns a client of it.
func newClient(t *testing.T, srv *backendtest.Server, cl *backendtest.Client) *api.Client {
	t.Helper()
	cfg := agenthttp.Config{
		Server: srv,
		Client: cl,
		Agent:  backendtest.Agent{"member": map[string]any{"Name": "a1"}},
		ParseJob: func(src []byte, vars string) (*structs.Job, error) {
			return &structs.Job{ID: strings.TrimSpace(string(src)), Meta: map[string]string{"vars": vars}}, nil
		},
		LogHeartbeat: 10 * time.Millisecond,
	}
	ts := httptest.NewServer(agenthttp.New(cfg))
	t.Cleanup(ts.Close)
	c, err := api.NewClient(&api.Config{Address: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fixture() *backendtest.Server {
	return &backendtest.Server{
		Index:      42,
		LeaderAddr: "10.0.0.1:4747",
		PeerAddrs:  []string{"10.0.0.1:4747"},
		Jobs:       []*structs.Job{{ID: "web", TaskGroups: []*structs.TaskGroup{{Name: "g"}}}, {ID: "web-2"}, {ID: "db"}},
		Nodes:      []*structs.Node{{ID: "aaaa1111", Name: "n1"}, {ID: "aaaa2222", Name: "n2"}, {ID: "bbbb3333", Name: "n3"}},
		Evals:      []*structs.Evaluation{{ID: "e1111111", JobID: "web", Status: "complete"}},
		Allocs: []*structs.Allocation{
			{ID: "a1111111", EvalID: "e1111111", JobID: "web", TaskGroup: "g", NodeID: "aaaa1111", ClientStatus: "running"},
			{ID: "a1112222", EvalID: "e1111111", JobID: "web", TaskGroup: "g", NodeID: "aaaa2222", ClientStatus: "failed"},
		},
	}
}

func TestNewClientAddress(t *testing.T) {
	t.Setenv(api.AddressEnv, "")
	c, err := api.NewClient(nil)
	if err != nil || c.Address() != api.DefaultAddress {
		t.Fatalf("default address %q (%v)", c.Address(), err)
	}
	t.Setenv(api.AddressEnv, "10.1.2.3:4746")
	if c, _ := api.NewClient(&api.Config{}); c.Address() != "http://10.1.2.3:4746" {
		t.Fatalf("address from env: %q", c.Address())
	}
	if c, _ := api.NewClient(&api.Config{Address: "https://example:1"}); c.Address() != "https://example:1" {
		t.Fatalf("explicit address: %q", c.Address())
	}
	if _, err := api.NewClient(&api.Config{Address: "ftp://x"}); err == nil {
		t.Fatal("ftp address accepted")
	}
}

func TestJobs(t *testing.T) {
	srv := fixture()
	c := newClient(t, srv, nil)
	jobs := c.Jobs()

	reg, err := jobs.Register(&structs.Job{ID: "api", Namespace: "default"})
	if err != nil || reg.EvalID == "" || reg.Index != 43 {
		t.Fatalf("register: %+v, %v", reg, err)
	}

	list, meta, err := jobs.List(&api.QueryOptions{Prefix: "web"})
	if err != nil || len(list) != 2 || meta.LastIndex != 43 || !meta.KnownLeader {
		t.Fatalf("list: %d jobs, meta %+v, %v", len(list), meta, err)
	}

	job, _, err := jobs.Info("web", nil)
	if err != nil || job.ID != "web" {
		t.Fatalf("info: %+v, %v", job, err)
	}
	_, _, err = jobs.Info("nope", nil)
	var se *api.StatusError
	if !errors.As(err, &se) || se.Code != 404 || !strings.Contains(se.Body, `job "nope" not found`) || !api.IsNotFound(err) {
		t.Fatalf("info of a missing job: %v", err)
	}

	allocs, _, err := jobs.Allocations("web", true, nil)
	if err != nil || len(allocs) != 2 {
		t.Fatalf("allocations: %d, %v", len(allocs), err)
	}
	evals, _, err := jobs.Evaluations("web", nil)
	if err != nil || len(evals) != 1 {
		t.Fatalf("evaluations: %d, %v", len(evals), err)
	}
	sum, _, err := jobs.Summary("web", nil)
	if err != nil || sum.Summary["g"].Running != 1 || sum.Summary["g"].Failed != 1 {
		t.Fatalf("summary: %+v, %v", sum, err)
	}

	dereg, err := jobs.Deregister("db", true)
	if err != nil || dereg.EvalID == "" {
		t.Fatalf("deregister: %+v, %v", dereg, err)
	}
	if got := srv.Deregistrations(); len(got) != 1 || !got[0].Purge || got[0].JobID != "db" {
		t.Fatalf("deregistrations %+v", got)
	}

	parsed, err := jobs.ParseHCLOpts(&structs.JobsParseRequest{JobHCL: "parsed", Variables: "x = 1"})
	if err != nil || parsed.ID != "parsed" || parsed.Meta["vars"] != "x = 1" {
		t.Fatalf("parse: %+v, %v", parsed, err)
	}
	if parsed, err := jobs.ParseHCL("canon", true); err != nil || parsed.Namespace != "default" {
		t.Fatalf("canonical parse: %+v, %v", parsed, err)
	}
}

func TestQueryOptionsReachTheServer(t *testing.T) {
	srv := fixture()
	ts := httptest.NewServer(agenthttp.New(agenthttp.Config{Server: srv}))
	defer ts.Close()
	c, _ := api.NewClient(&api.Config{Address: ts.URL, Namespace: "prod", Region: "east"})

	q := &api.QueryOptions{WaitIndex: 40, WaitTime: 3 * time.Second, AllowStale: true, Prefix: "a1"}
	if _, _, err := c.Allocations().List(q); err != nil {
		t.Fatal(err)
	}
	want := structs.QueryOptions{Region: "east", Namespace: "prod", MinQueryIndex: 40, MaxQueryTime: 3 * time.Second, AllowStale: true, Prefix: "a1"}
	if got := srv.LastQuery(); got != want {
		t.Fatalf("server saw %+v, want %+v", got, want)
	}
	// A query's own namespace wins over the client's.
	if _, _, err := c.Nodes().List(&api.QueryOptions{Namespace: "dev"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.LastQuery(); got.Namespace != "dev" {
		t.Fatalf("namespace %q, want dev", got.Namespace)
	}

	// A canceled context ends the request.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Jobs().List((&api.QueryOptions{}).WithContext(ctx)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled query: %v", err)
	}
}

func TestAllocationsEvaluationsNodesStatus(t *testing.T) {
	c := newClient(t, fixture(), nil)

	alloc, _, err := c.Allocations().Info("a1111111", nil)
	if err != nil || alloc.NodeID != "aaaa1111" {
		t.Fatalf("alloc info: %+v, %v", alloc, err)
	}
	evals, _, err := c.Evaluations().List(nil)
	if err != nil || len(evals) != 1 {
		t.Fatalf("evals: %v, %v", evals, err)
	}
	eval, _, err := c.Evaluations().Info("e1111111", nil)
	if err != nil || eval.Status != "complete" {
		t.Fatalf("eval info: %+v, %v", eval, err)
	}
	evalAllocs, _, err := c.Evaluations().Allocations("e1111111", nil)
	if err != nil || len(evalAllocs) != 2 {
		t.Fatalf("eval allocs: %v, %v", evalAllocs, err)
	}
	nodes, _, err := c.Nodes().List(nil)
	if err != nil || len(nodes) != 3 {
		t.Fatalf("nodes: %v, %v", nodes, err)
	}
	node, _, err := c.Nodes().Info("bbbb3333", nil)
	if err != nil || node.Name != "n3" {
		t.Fatalf("node info: %+v, %v", node, err)
	}
	nodeAllocs, _, err := c.Nodes().Allocations("aaaa2222", nil)
	if err != nil || len(nodeAllocs) != 1 || nodeAllocs[0].ID != "a1112222" {
		t.Fatalf("node allocs: %v, %v", nodeAllocs, err)
	}
	leader, err := c.Status().Leader()
	if err != nil || leader != "10.0.0.1:4747" {
		t.Fatalf("leader %q, %v", leader, err)
	}
	peers, err := c.Status().Peers()
	if err != nil || len(peers) != 1 {
		t.Fatalf("peers %v, %v", peers, err)
	}
	self, err := c.Agent().Self()
	if err != nil || self["member"] == nil {
		t.Fatalf("self %v, %v", self, err)
	}
}

func TestResolve(t *testing.T) {
	c := newClient(t, fixture(), nil)

	if job, err := c.Jobs().Resolve("web", nil); err != nil || job.ID != "web" {
		t.Fatalf("an exact ID wins over longer ones: %+v, %v", job, err)
	}
	if job, err := c.Jobs().Resolve("d", nil); err != nil || job.ID != "db" {
		t.Fatalf("unique prefix: %+v, %v", job, err)
	}
	_, err := c.Allocations().Resolve("a111", nil)
	var amb *api.AmbiguousError
	if !errors.As(err, &amb) || len(amb.Matches) != 2 || !errors.Is(err, structs.ErrAmbiguousID) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if !strings.Contains(err.Error(), "a1111111") || !strings.Contains(err.Error(), "matched multiple allocations") {
		t.Fatalf("ambiguity message %q", err)
	}
	_, err = c.Nodes().Resolve("cc", nil)
	if err == nil || err.Error() != `No node(s) with prefix or id "cc" found` || !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("no match: %v", err)
	}
	if eval, err := c.Evaluations().Resolve("e1", nil); err != nil || eval.ID != "e1111111" {
		t.Fatalf("eval prefix: %+v, %v", eval, err)
	}
	if node, err := c.Nodes().Resolve("bb", nil); err != nil || node.ID != "bbbb3333" {
		t.Fatalf("node prefix: %+v, %v", node, err)
	}
}

func TestLogs(t *testing.T) {
	buf := backendtest.NewLogBuffer("one\ntwo\n")
	cl := &backendtest.Client{Logs: map[string]*backendtest.LogBuffer{backendtest.LogKey("a1", "app", "stderr"): buf}}
	c := newClient(t, fixture(), cl)

	s, err := c.AllocFS().Logs("a1", "app", "stderr", false, api.OriginEnd, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(s)
	s.Close()
	if err != nil || string(data) != "two\n" || s.Offset() != 8 {
		t.Fatalf("tail read %q, offset %d, %v", data, s.Offset(), err)
	}

	// Follow: read what is there, then what comes, until the task ends.
	s, err = c.AllocFS().Logs("a1", "app", "stderr", true, api.OriginStart, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := make([]byte, 100)
	n, err := s.Read(p)
	if err != nil || string(p[:n]) != "one\ntwo\n" {
		t.Fatalf("first read %q, %v", p[:n], err)
	}
	buf.Write([]byte("three\n"))
	buf.Finish()
	rest, err := io.ReadAll(s)
	if err != nil || string(rest) != "three\n" || s.Offset() != 14 {
		t.Fatalf("rest %q, offset %d, %v", rest, s.Offset(), err)
	}

	if _, err := c.AllocFS().Logs("a1", "nope", "stderr", false, api.OriginStart, 0, nil); !api.IsNotFound(err) {
		t.Fatalf("missing task: %v", err)
	}
}
