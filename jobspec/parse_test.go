package jobspec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// mustParse parses src and fails the test on any error.
func mustParse(t *testing.T, src string, opts *ParseOptions) *structs.Job {
	t.Helper()
	job, err := Parse("job.hcl", []byte(src), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return job
}

// parseError parses src and returns the error message, failing the test
// when there is none or when it is not an *Error.
func parseError(t *testing.T, src string, opts *ParseOptions) string {
	t.Helper()
	_, err := Parse("job.hcl", []byte(src), opts)
	if err == nil {
		t.Fatalf("Parse succeeded, want an error")
	}
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %T is not an *Error: %v", err, err)
	}
	return err.Error()
}

func assertEqual(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("got:\n%s\nwant:\n%s", g, w)
	}
}

// TestValidFiles parses every example and every testdata/valid file, and
// checks that each is a valid job once canonicalized and reads the same
// after a JSON round trip.
func TestValidFiles(t *testing.T) {
	examples, _ := filepath.Glob("../examples/*.hcl")
	if len(examples) < 3 {
		t.Fatalf("found %d examples, want at least hello, batch and variables", len(examples))
	}
	valid, _ := filepath.Glob("testdata/valid/*.hcl")
	paths := append(examples, valid...)
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			job, err := ParseFile(path, nil)
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			job.Canonicalize()
			if err := job.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			// Config must survive JSON unchanged: that is how jobs travel.
			b, err := json.Marshal(job)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var back structs.Job
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			assertEqual(t, &back, job)
		})
	}
}

func TestHelloExample(t *testing.T) {
	job, err := ParseFile("../examples/hello.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &structs.Job{
		ID: "hello", Name: "hello", Type: "service", Datacenters: []string{"*"},
		TaskGroups: []*structs.TaskGroup{{
			Name:  "web",
			Count: 2,
			Networks: []*structs.NetworkResource{{
				DynamicPorts: []structs.Port{{Label: "http", To: 8080}},
			}},
			Tasks: []*structs.Task{{
				Name:      "app",
				Driver:    "docker",
				Config:    map[string]any{"image": "drover-demo:v1", "ports": []any{"http"}},
				Resources: &structs.Resources{CPU: 100, MemoryMB: 64},
			}},
		}},
	}
	assertEqual(t, job, want)
}

func TestBatchExample(t *testing.T) {
	job, err := ParseFile("../examples/batch.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.Type != structs.JobTypeBatch {
		t.Fatalf("type %q, want batch", job.Type)
	}
	task := job.TaskGroups[0].Tasks[0]
	assertEqual(t, task.Config, map[string]any{"image": "drover-demo:v1"})
	assertEqual(t, task.Env, map[string]string{"CRASH_AFTER": "2s", "EXIT_CODE": "0"})
	assertEqual(t, job.TaskGroups[0].RestartPolicy, &structs.RestartPolicy{Attempts: 0, Mode: "fail"})
}

func TestFullJob(t *testing.T) {
	src := `
job "api" {
  name        = "API server"
  type        = "service"
  datacenters = ["dc1", "dc2"]
  region      = "eu"
  namespace   = "team-a"
  priority    = 70
  node_pool   = "large"
  meta {
    owner   = "team-a"
    version = 3
    enabled = true
  }

  group "web" {
    count = 0
    meta = { "com.example.tier" = "front" }

    network {
      mode = "bridge"
      port "http" {
        static = 8080
        to     = 80
      }
      port "admin" {
        to           = -1
        host_network = "private"
      }
    }

    restart {
      attempts = 5
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    task "app" {
      driver       = "docker"
      user         = "nobody"
      kill_timeout = "30s"
      kill_signal  = "SIGINT"
      leader       = true
      env = { "APP.MODE" = "prod", "WORKERS" = 4 }
      meta { role = "main" }

      config {
        image      = "drover-demo:v1"
        command    = "/app"
        args       = ["-port", 8080, true]
        entrypoint = ["/bin/sh", "-c"]
        ports      = ["http", "admin"]
        labels     = { team = "a" }
        privileged = false
        shm_size   = 1024
        dns_servers = ["1.1.1.1"]
        sysctl = { "net.core.somaxconn" = "16384" }
        logging {
          type = "json-file"
          config {
            max-size = "10m"
          }
        }
        mount {
          type   = "bind"
          source = "/a"
        }
        mount {
          type   = "bind"
          source = "/b"
        }
        work_dir = null
      }

      resources {
        cpu        = 500
        memory     = 256
        memory_max = 512
        cores      = 0
      }
    }

    task "sidecar" {
      driver = "docker"
      config { image = "busybox" }
    }
  }
}
`
	job := mustParse(t, src, nil)
	want := &structs.Job{
		ID: "api", Name: "API server", Type: "service", Datacenters: []string{"dc1", "dc2"},
		Region: "eu", Namespace: "team-a", Priority: 70, NodePool: "large",
		Meta: map[string]string{"owner": "team-a", "version": "3", "enabled": "true"},
		TaskGroups: []*structs.TaskGroup{{
			Name:  "web",
			Count: 0,
			Meta:  map[string]string{"com.example.tier": "front"},
			Networks: []*structs.NetworkResource{{
				Mode:          "bridge",
				ReservedPorts: []structs.Port{{Label: "http", Value: 8080, To: 80}},
				DynamicPorts:  []structs.Port{{Label: "admin", To: -1, HostNetwork: "private"}},
			}},
			RestartPolicy: &structs.RestartPolicy{Attempts: 5, Interval: 5 * time.Minute, Delay: 10 * time.Second, Mode: "delay"},
			Tasks: []*structs.Task{{
				Name: "app", Driver: "docker", User: "nobody", KillTimeout: 30 * time.Second,
				KillSignal: "SIGINT", Leader: true,
				Env:  map[string]string{"APP.MODE": "prod", "WORKERS": "4"},
				Meta: map[string]string{"role": "main"},
				Config: map[string]any{
					"image":       "drover-demo:v1",
					"command":     "/app",
					"args":        []any{"-port", "8080", "true"},
					"entrypoint":  []any{"/bin/sh", "-c"},
					"ports":       []any{"http", "admin"},
					"labels":      map[string]any{"team": "a"},
					"privileged":  false,
					"shm_size":    float64(1024),
					"dns_servers": []any{"1.1.1.1"},
					"sysctl":      map[string]any{"net.core.somaxconn": "16384"},
					"logging": []any{map[string]any{
						"type":   "json-file",
						"config": []any{map[string]any{"max-size": "10m"}},
					}},
					"mount": []any{
						map[string]any{"type": "bind", "source": "/a"},
						map[string]any{"type": "bind", "source": "/b"},
					},
				},
				Resources: &structs.Resources{CPU: 500, MemoryMB: 256, MemoryMaxMB: 512},
			}, {
				Name: "sidecar", Driver: "docker", Config: map[string]any{"image": "busybox"},
			}},
		}},
	}
	assertEqual(t, job, want)
}

func TestDefaultsLeftForCanonicalize(t *testing.T) {
	job := mustParse(t, `job "x" {
  group "g" {
    restart { delay = "1s" }
    task "t" { driver = "docker" }
  }
}`, nil)
	if job.Name != "x" || job.Type != "" || job.Priority != 0 || job.Datacenters != nil {
		t.Fatalf("job defaults were filled in: %+v", job)
	}
	tg := job.TaskGroups[0]
	if tg.Count != 1 {
		t.Fatalf("count %d, want 1 when omitted", tg.Count)
	}
	// An omitted attempts takes the job type's default: zero is a real value.
	assertEqual(t, tg.RestartPolicy, &structs.RestartPolicy{Attempts: 2, Delay: time.Second})
	if tg.Tasks[0].Resources != nil || tg.Tasks[0].Config != nil {
		t.Fatalf("task defaults were filled in: %+v", tg.Tasks[0])
	}

	batch := mustParse(t, `job "x" {
  type = "batch"
  group "g" {
    restart { mode = "fail" }
  }
}`, nil)
	if got := batch.TaskGroups[0].RestartPolicy.Attempts; got != 3 {
		t.Fatalf("batch attempts %d, want 3", got)
	}
}

func TestNullMeansOmitted(t *testing.T) {
	job := mustParse(t, `job "x" {
  priority = null
  group "g" {
    count = null
    meta {
      a = null
      b = "1"
    }
  }
}`, nil)
	if job.Priority != 0 || job.TaskGroups[0].Count != 1 {
		t.Fatalf("null was not treated as omitted: %+v", job)
	}
	assertEqual(t, job.TaskGroups[0].Meta, map[string]string{"b": "1"})
}

func TestParseFile(t *testing.T) {
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.hcl"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want not exist", err)
	}
	_, err := ParseFile("testdata/invalid/unknown_argument.hcl", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/invalid/unknown_argument.hcl:") {
		t.Fatalf("want an error naming the file, got %v", err)
	}
}

func TestErrorIsBadRequest(t *testing.T) {
	_, err := Parse("job.hcl", []byte(`job "x" { foo = 1 }`), nil)
	if !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("errors.Is(%v, ErrBadRequest) is false", err)
	}
}

const varsJob = `
variable "image" {
  type        = string
  description = "Image to run."
}

variable "count" {
  type    = number
  default = 1
}

variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}

variable "debug" {
  type    = bool
  default = false
}

variable "labels" {
  type    = map(string)
  default = {}
}

variable "anything" {
  default = "x"
}

job "v" {
  datacenters = var.dcs
  meta {
    debug    = var.debug
    anything = var.anything
    labels   = jsonencode(var.labels)
  }
  group "g" {
    count = var.count
    task "t" {
      driver = "docker"
      config { image = var.image }
    }
  }
}
`

func TestVariables(t *testing.T) {
	dir := t.TempDir()
	file1 := filepath.Join(dir, "one.hcl")
	file2 := filepath.Join(dir, "two.hcl")
	if err := os.WriteFile(file1, []byte("image = \"from-file-1\"\ncount = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file2, []byte("count = 3\ndcs = [\"a\", \"b\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	job := mustParse(t, varsJob, &ParseOptions{
		Env: map[string]string{
			"NOMAD_VAR_image":    "from-env",
			"NOMAD_VAR_debug":    "true",
			"NOMAD_VAR_unknown":  "ignored",
			"NOMAD_VAR_anything": "from-env",
		},
		VarFiles:   []string{file1, file2},
		VarContent: "labels = { team = \"a\" }\nanything = \"from-content\"\n",
		Vars:       []string{"anything=from-var", "count=4", "anything=last = wins"},
	})
	tg := job.TaskGroups[0]
	assertEqual(t, job.Datacenters, []string{"a", "b"})
	assertEqual(t, tg.Count, 4)
	assertEqual(t, tg.Tasks[0].Config["image"], "from-file-1")
	assertEqual(t, job.Meta, map[string]string{"debug": "true", "anything": "last = wins", "labels": `{"team":"a"}`})
}

func TestVariableDefaults(t *testing.T) {
	job := mustParse(t, varsJob, &ParseOptions{Vars: []string{"image=img"}})
	assertEqual(t, job.Datacenters, []string{"dc1"})
	assertEqual(t, job.TaskGroups[0].Count, 1)
	assertEqual(t, job.Meta, map[string]string{"debug": "false", "anything": "x", "labels": "{}"})
}

func TestVariableComplexValuesFromText(t *testing.T) {
	job := mustParse(t, varsJob, &ParseOptions{Vars: []string{
		"image=img", `dcs=["x", "y"]`, `labels={a = "b"}`, "debug=1",
	}})
	assertEqual(t, job.Datacenters, []string{"x", "y"})
	assertEqual(t, job.Meta["labels"], `{"a":"b"}`)
	assertEqual(t, job.Meta["debug"], "true")
}

func TestVariableErrors(t *testing.T) {
	tests := []struct {
		name string
		opts *ParseOptions
		want string
	}{{
		name: "missing required",
		opts: nil,
		want: `job.hcl:2:1: Missing value for variable; The variable "image" has no default, so it needs a value: -var image=..., a -var-file, or NOMAD_VAR_image.`,
	}, {
		name: "bad -var values",
		opts: &ParseOptions{Vars: []string{"image=i", "count=many", "debug=maybe", "nope=1", "novalue", `dcs=["a"`}},
		want: strings.Join([]string{
			`-var dcs:1:1: Unterminated tuple constructor expression; There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.`,
			`Invalid value for variable; -var count: a number is required.`,
			`Invalid value for variable; -var debug: a bool is required.`,
			`Undeclared variable; -var nope: the job file declares no variable "nope"; add a variable "nope" {} block.`,
			`Invalid -var option; "novalue" is not name=value.`,
		}, "\n"),
	}, {
		name: "bad var-file content",
		opts: &ParseOptions{Vars: []string{"image=i"}, VarContent: "count = \"many\"\nnope = 1\ndcs = var.x\n"},
		want: strings.Join([]string{
			`<var-content>:1:9: Invalid value for variable; The value of variable "count" does not match its type number: a number is required.`,
			`<var-content>:2:1: Undeclared variable; The job file declares no variable "nope"; add a variable "nope" {} block or remove this line.`,
			`<var-content>:3:7: Variables not allowed; Variables may not be used here.`,
		}, "\n"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseError(t, varsJob, tt.opts)
			if got != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestUnreadableVarFile(t *testing.T) {
	_, err := Parse("job.hcl", []byte(varsJob), &ParseOptions{VarFiles: []string{filepath.Join(t.TempDir(), "nope.hcl")}})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestLocals(t *testing.T) {
	job := mustParse(t, `
locals {
  # Order in the file does not matter: c needs b which needs a.
  c = "${local.b}-c"
}
locals {
  b = "${local.a}-b"
  a = upper(var.name)
  n = length(local.list) + length("four")
  list = [for s in split(",", "x,y,z") : "${s}!"]
}
variable "name" {
  default = "a"
}
job "l" {
  meta {
    c = local.c
    n = local.n
    list = join(" ", local.list)
  }
}
`, nil)
	assertEqual(t, job.Meta, map[string]string{"c": "A-b-c", "n": "7", "list": "x! y! z!"})
}

func TestFunctions(t *testing.T) {
	job := mustParse(t, `
job "f" {
  meta {
    upper      = upper("a")
    lower      = lower("A")
    format     = format("%s-%03d", "x", 7)
    join       = join(",", concat(["a"], ["b", "c"]))
    split      = length(split(",", "a,b,c"))
    lookup     = lookup({ a = "1" }, "b", "default")
    merge      = jsonencode(merge({ a = 1 }, { b = 2 }))
    replace    = replace("a-b-c", "-", "_")
    trimspace  = trimspace("  x  ")
    jsondecode = jsondecode("{\"k\": \"v\"}").k
    min        = min(3, 1, 2)
    max        = max(3, 1, 2)
    coalesce   = coalesce(null, "second")
    range      = jsonencode(range(3))
    keys       = join(",", keys({ b = 1, a = 2 }))
    values     = join(",", values({ b = "1", a = "2" }))
    tostring   = tostring(5)
    tonumber   = tonumber("5") + 1
    try        = try(jsondecode("{"), "fallback")
    regex      = regex_replace("v1.2", "[.]", "_")
    math       = 2 * 1024
    cond       = 1 > 2 ? "yes" : "no"
  }
}
`, nil)
	assertEqual(t, job.Meta, map[string]string{
		"upper": "A", "lower": "a", "format": "x-007", "join": "a,b,c", "split": "3",
		"lookup": "default", "merge": `{"a":1,"b":2}`, "replace": "a_b_c", "trimspace": "x",
		"jsondecode": "v", "min": "1", "max": "3", "coalesce": "second", "range": "[0,1,2]",
		"keys": "a,b", "values": "2,1", "tostring": "5", "tonumber": "6", "try": "fallback",
		"regex": "v1_2", "math": "2048", "cond": "no",
	})
}
