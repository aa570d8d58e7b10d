package command

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/cli"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// testNow is the fixed clock of every command test.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testEnv is the real HTTP API over fakes, which commands reach through
// DROVER_ADDR.
type testEnv struct {
	server *backendtest.Server
	client *backendtest.Client
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{
		server: &backendtest.Server{Index: 10, LeaderAddr: "127.0.0.1:4747"},
		client: &backendtest.Client{Logs: map[string]*backendtest.LogBuffer{}},
	}
	ts := httptest.NewServer(agenthttp.New(agenthttp.Config{Server: e.server, Client: e.client, LogHeartbeat: 10 * time.Millisecond}))
	t.Cleanup(ts.Close)
	t.Setenv(api.AddressEnv, ts.URL)
	return e
}

// result is what one command run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI with args, feeding stdin to prompts and "-" files.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ui := cli.NewMockUi()
	ui.InputReader = strings.NewReader(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	meta := Meta{
		UI:      ui,
		Stdin:   strings.NewReader(stdin),
		Stdout:  ui.OutputWriter,
		Stderr:  ui.ErrorWriter,
		Now:     func() time.Time { return testNow },
		Context: ctx,
	}
	code := run(args, meta, ui.OutputWriter, ui.ErrorWriter)
	return result{code: code, stdout: ui.OutputWriter.String(), stderr: ui.ErrorWriter.String()}
}

// want checks the exit code and that each line appears in the output.
func (r result) want(t *testing.T, code int, lines ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	all := r.stdout + r.stderr
	for _, l := range lines {
		if !strings.Contains(all, l) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", l, r.stdout, r.stderr)
		}
	}
}

// writeFile writes content to a file in a fresh directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHelp(t *testing.T) {
	runCLI(t, "", "help").want(t, 0, "Usage: drover", "job ", "alloc ", "node ", "version ")
	runCLI(t, "", "-h").want(t, 0, "Available commands are:")
	runCLI(t, "", "help", "job", "run").want(t, 0, "Usage: drover job run [options] <path>", "-detach", "-address=<addr>", "DROVER_ADDR")
	runCLI(t, "", "job", "status", "-h").want(t, 0, "Usage: drover job status [options] [job]")
	runCLI(t, "", "job").want(t, 1, "Usage: drover job <subcommand>", "run ", "status ", "stop ", "validate ")
	for _, cmd := range [][]string{{"job", "stop"}, {"job", "validate"}, {"alloc", "status"}, {"alloc", "logs"}, {"node", "status"}, {"version"}, {"alloc"}, {"node"}} {
		runCLI(t, "", append(cmd, "-h")...).want(t, 0, "Usage: drover "+strings.Join(cmd, " "))
	}
	runCLI(t, "", "frobnicate").want(t, 127, "Usage: drover")
}

func TestVersion(t *testing.T) {
	runCLI(t, "", "version").want(t, 0, "drover v")
	runCLI(t, "", "-v").want(t, 0, "drover v")
}

func TestRegister(t *testing.T) {
	Register("hello", func(m Meta) cli.Command {
		return &cli.MockCommand{HelpText: "Usage: drover hello", SynopsisText: "Say hello", RunResult: 3}
	})
	t.Cleanup(func() {
		registeredMu.Lock()
		delete(registered, "hello")
		registeredMu.Unlock()
	})
	runCLI(t, "", "hello").want(t, 3)
	runCLI(t, "", "help").want(t, 0, "hello", "Say hello")
}

func TestUsageErrors(t *testing.T) {
	newTestEnv(t)
	runCLI(t, "", "job", "status", "-bogus").want(t, 1, "flag provided but not defined: -bogus", "drover job status -h")
	runCLI(t, "", "job", "status", "a", "b").want(t, 1, "at most one argument")
	runCLI(t, "", "job", "run").want(t, 1, "one argument: <path>")
	runCLI(t, "", "job", "stop").want(t, 1, "one argument: <job>")
	runCLI(t, "", "alloc", "status").want(t, 1, "one argument: <allocation>")
	runCLI(t, "", "alloc", "logs", "-n", "3", "abc").want(t, 1, "-n and -c need -tail")
	runCLI(t, "", "job", "status", "-address=ftp://x").want(t, 1, "Error initializing client")
}

func TestFormatAgo(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                "0s ago",
		42 * time.Second:                 "42s ago",
		5*time.Minute + 3*time.Second:    "5m3s ago",
		5 * time.Minute:                  "5m ago",
		2*time.Hour + 30*time.Second:     "2h ago",
		2*time.Hour + 7*time.Minute:      "2h7m ago",
		3*24*time.Hour + 4*time.Hour + 1: "3d4h ago",
		-time.Minute:                     "0s ago",
	}
	for d, want := range cases {
		if got := formatAgo(testNow, testNow.Add(-d)); got != want {
			t.Errorf("formatAgo(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLastLines(t *testing.T) {
	cases := []struct {
		data     string
		n        int
		want     string
		complete bool
	}{
		{"a\nb\nc\n", 2, "b\nc\n", true},
		{"a\nb\nc", 2, "b\nc", true},
		{"b\nc\n", 2, "b\nc\n", false},
		{"", 3, "", false},
		{"a\nb\n", 0, "", true},
	}
	for _, c := range cases {
		got, complete := lastLines([]byte(c.data), c.n)
		if string(got) != c.want || complete != c.complete {
			t.Errorf("lastLines(%q, %d) = %q, %v; want %q, %v", c.data, c.n, got, complete, c.want, c.complete)
		}
	}
}

// unix turns a time into the Unix nanoseconds the API carries.
func unix(t time.Time) int64 { return t.UnixNano() }

func job(id string, tasks ...string) *structs.Job {
	tg := &structs.TaskGroup{Name: "web", Count: 1}
	for _, name := range tasks {
		tg.Tasks = append(tg.Tasks, &structs.Task{Name: name, Driver: "docker"})
	}
	return &structs.Job{ID: id, Name: id, Namespace: "default", Type: "service", Priority: 50, Datacenters: []string{"dc1"},
		NodePool: "default", Status: "running", SubmitTime: unix(testNow.Add(-time.Hour)), TaskGroups: []*structs.TaskGroup{tg}}
}
