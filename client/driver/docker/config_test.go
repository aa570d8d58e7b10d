package docker

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func baseConfig() *driver.TaskConfig {
	return &driver.TaskConfig{
		AllocID:   "a1",
		Namespace: "default",
		JobID:     "job",
		JobName:   "job-name",
		GroupName: "web",
		TaskName:  "server",
		Image:     "drover-demo:v1",
	}
}

func TestContainerConfigCommandSemantics(t *testing.T) {
	for _, tc := range []struct {
		name           string
		command        string
		args           []string
		entrypoint     []string
		wantCmd        []string
		wantEntrypoint []string
	}{
		{name: "image defaults"},
		{name: "command only", command: "/bin/sh", wantCmd: []string{"/bin/sh"}},
		{name: "command and args", command: "/app", args: []string{"-v", "x"}, wantCmd: []string{"/app", "-v", "x"}},
		{name: "args only replace CMD", args: []string{"-v"}, wantCmd: []string{"-v"}},
		{name: "entrypoint", entrypoint: []string{"/other"}, args: []string{"a"},
			wantCmd: []string{"a"}, wantEntrypoint: []string{"/other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Command, cfg.Args, cfg.Entrypoint = tc.command, tc.args, tc.entrypoint
			cc, _, err := containerConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cc.Cmd, tc.wantCmd) || !slices.Equal(cc.Entrypoint, tc.wantEntrypoint) {
				t.Errorf("Cmd=%q Entrypoint=%q, want %q %q", cc.Cmd, cc.Entrypoint, tc.wantCmd, tc.wantEntrypoint)
			}
		})
	}
}

func TestContainerConfigLabelsEnvResources(t *testing.T) {
	cfg := baseConfig()
	cfg.Labels = map[string]string{"team": "x", LabelAllocID: "forged"}
	cfg.Env = map[string]string{"B": "2", "A": "1"}
	cfg.MemoryMB = 64
	cfg.CPUShares = 1

	cc, hc, err := containerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"team":         "x",
		LabelAllocID:   "a1", // the job cannot override drover's labels
		LabelJobID:     "job",
		LabelJobName:   "job-name",
		LabelTaskGroup: "web",
		LabelTaskName:  "server",
		LabelNamespace: "default",
	}
	if len(cc.Labels) != len(want) {
		t.Errorf("labels = %v", cc.Labels)
	}
	for k, v := range want {
		if cc.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cc.Labels[k], v)
		}
	}
	if !slices.Equal(cc.Env, []string{"A=1", "B=2"}) {
		t.Errorf("env = %q", cc.Env)
	}
	if hc.Memory != 64<<20 {
		t.Errorf("memory = %d", hc.Memory)
	}
	if hc.CPUShares != minCPUShares {
		t.Errorf("cpu shares = %d, want the engine minimum %d", hc.CPUShares, minCPUShares)
	}
	if hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		t.Errorf("restart policy = %q", hc.RestartPolicy.Name)
	}
	if cfg.Labels[LabelAllocID] != "forged" {
		t.Error("containerConfig modified the task's labels")
	}
}

func TestContainerConfigPorts(t *testing.T) {
	ports := []driver.PortMapping{
		{Label: "http", HostIP: "127.0.0.1", HostPort: 23000, ContainerPort: 8080},
		{Label: "metrics", HostPort: 23001}, // `to` unset: same port inside
	}
	t.Run("only listed ports are published", func(t *testing.T) {
		cfg := baseConfig()
		cfg.Ports, cfg.PortLabels = ports, []string{"http"}
		cc, hc, err := containerConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := network.PortBinding{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "23000"}
		for _, p := range []string{"8080/tcp", "8080/udp"} {
			port := network.MustParsePort(p)
			if _, ok := cc.ExposedPorts[port]; !ok {
				t.Errorf("%s not exposed", p)
			}
			if b := hc.PortBindings[port]; len(b) != 1 || b[0] != want {
				t.Errorf("%s bindings = %+v", p, b)
			}
		}
		if len(hc.PortBindings) != 2 {
			t.Errorf("bindings = %v", hc.PortBindings)
		}
	})
	t.Run("to defaults to the host port", func(t *testing.T) {
		cfg := baseConfig()
		cfg.Ports, cfg.PortLabels = ports, []string{"metrics"}
		_, hc, err := containerConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b := hc.PortBindings[network.MustParsePort("23001/tcp")]
		if len(b) != 1 || b[0].HostPort != "23001" || b[0].HostIP.IsValid() {
			t.Errorf("bindings = %+v", b)
		}
	})
	t.Run("no listed ports, none published", func(t *testing.T) {
		cfg := baseConfig()
		cfg.Ports = ports
		cc, hc, err := containerConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(cc.ExposedPorts) != 0 || len(hc.PortBindings) != 0 {
			t.Errorf("published %v", hc.PortBindings)
		}
	})
	for name, mutate := range map[string]func(*driver.TaskConfig){
		"unknown label":  func(c *driver.TaskConfig) { c.PortLabels = []string{"nope"} },
		"bad host IP":    func(c *driver.TaskConfig) { c.Ports[0].HostIP = "localhost"; c.PortLabels = []string{"http"} },
		"no host port":   func(c *driver.TaskConfig) { c.Ports[0].HostPort = 0; c.PortLabels = []string{"http"} },
		"port too large": func(c *driver.TaskConfig) { c.Ports[0].ContainerPort = 70000; c.PortLabels = []string{"http"} },
		"no image":       func(c *driver.TaskConfig) { c.Image = "" },
		"no alloc":       func(c *driver.TaskConfig) { c.AllocID = "" },
	} {
		t.Run("rejects "+name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Ports = slices.Clone(ports)
			mutate(cfg)
			if _, _, err := containerConfig(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestContainerName(t *testing.T) {
	for task, want := range map[string]string{
		"server":   "server-a1",
		"web.api":  "web.api-a1",
		"my task!": "my_task_-a1",
		"_hidden":  "t_hidden-a1",
		"ünï":      "t_n_-a1",
	} {
		cfg := baseConfig()
		cfg.TaskName = task
		if got := ContainerName(cfg); got != want {
			t.Errorf("ContainerName(%q) = %q, want %q", task, got, want)
		}
	}
}

func TestStampWriterStripsTimestampAndStampsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "task.stdout.0")
	w, err := openLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()

	ts := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for _, line := range []string{
		ts.Add(-time.Second).Format(time.RFC3339Nano) + " first\n",
		ts.Format(time.RFC3339Nano) + " second line\n",
		"no timestamp here\n",
	} {
		if n, err := w.Write([]byte(line)); err != nil || n != len(line) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	b, _ := os.ReadFile(path)
	if got := string(b); got != "first\nsecond line\nno timestamp here\n" {
		t.Errorf("file = %q", got)
	}
	if !w.last.Equal(ts) {
		t.Errorf("last = %v, want %v", w.last, ts)
	}
	// A restarted driver resumes right after the last line copied.
	cfg := &driver.TaskConfig{StdoutPath: path, StderrPath: filepath.Join(t.TempDir(), "missing")}
	if got := resumePoint(cfg); !got.Equal(ts.Add(time.Nanosecond)) {
		t.Errorf("resumePoint = %v, want %v", got, ts.Add(time.Nanosecond))
	}
	if got := resumePoint(&driver.TaskConfig{}); !got.IsZero() {
		t.Errorf("resumePoint without files = %v", got)
	}
}

func TestCutTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		rest string
	}{
		{"2024-01-02T03:04:05.000000006Z hello world\n", true, "hello world\n"},
		{"2024-01-02T03:04:05Z x", true, "x"},
		{"hello world", false, ""},
		{"", false, ""},
		{strings.Repeat("x", 100) + " y", false, ""},
	} {
		_, rest, ok := cutTimestamp([]byte(tc.in))
		if ok != tc.ok || string(rest) != tc.rest {
			t.Errorf("cutTimestamp(%q) = %q, %v", tc.in, rest, ok)
		}
	}
}
