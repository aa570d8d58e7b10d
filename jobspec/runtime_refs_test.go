package jobspec

import (
	"testing"
)

// metaValue parses a job whose meta "v" is expr, with local.l and var.v
// defined, and returns the decoded value.
func metaValue(t *testing.T, expr string) string {
	t.Helper()
	src := `
variable "v" {
  default = "val"
}
locals {
  l = "${NOMAD_TASK_DIR}/conf"
}
job "x" {
  meta {
    v = ` + expr + `
  }
}
`
	return mustParse(t, src, nil).Meta["v"]
}

func TestRuntimeReferencesAreKeptLiterally(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`"${NOMAD_JOB_NAME}"`, "${NOMAD_JOB_NAME}"},
		{`"http://${NOMAD_ADDR_http}/health"`, "http://${NOMAD_ADDR_http}/health"},
		{`"${NOMAD_PORT_http}"`, "${NOMAD_PORT_http}"},
		{`"${attr.kernel.name}"`, "${attr.kernel.name}"},
		{`"${node.unique.name}"`, "${node.unique.name}"},
		{`"${meta.foo}"`, "${meta.foo}"},
		{`"${env["X"]}"`, `${env["X"]}`},
		{`"${attr.list[0]}"`, "${attr.list[0]}"},
		{`"${ attr.kernel.name }"`, "${attr.kernel.name}"},
		{`"${MY_OWN_ENV}"`, "${MY_OWN_ENV}"},
		// Parsed references are still resolved around runtime ones.
		{`"${var.v}-${NOMAD_ALLOC_INDEX}"`, "val-${NOMAD_ALLOC_INDEX}"},
		{`local.l`, "${NOMAD_TASK_DIR}/conf"},
		{`"${local.l}/x"`, "${NOMAD_TASK_DIR}/conf/x"},
		// An escaped interpolation is a literal in HCL already.
		{`"$${NOMAD_X}"`, "${NOMAD_X}"},
		// for symbols are not runtime references; the others in the same
		// template are.
		{`join(",", [for s in ["a", "b"] : "${s}:${NOMAD_ALLOC_ID}"])`, "a:${NOMAD_ALLOC_ID},b:${NOMAD_ALLOC_ID}"},
		{`"%{for s in ["a", "b"]}${s}${node.class}%{endfor}"`, "a${node.class}b${node.class}"},
		{"<<EOT\ndir=${NOMAD_ALLOC_DIR}\nEOT\n", "dir=${NOMAD_ALLOC_DIR}\n"},
		{`format("%s/%s", "${NOMAD_TASK_DIR}", var.v)`, "${NOMAD_TASK_DIR}/val"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := metaValue(t, tt.expr); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRuntimeReferencesInDefaultsAndConfig(t *testing.T) {
	job := mustParse(t, `
variable "dir" {
  default = "${NOMAD_ALLOC_DIR}/data"
}
job "x" {
  group "g" {
    task "t" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        args  = ["--data", var.dir, "--port=${NOMAD_PORT_http}"]
        labels {
          node = "${node.unique.name}"
        }
      }
      env {
        KERNEL = "${attr.kernel.name}"
      }
    }
  }
}
`, nil)
	task := job.TaskGroups[0].Tasks[0]
	assertEqual(t, task.Config["args"], []any{"--data", "${NOMAD_ALLOC_DIR}/data", "--port=${NOMAD_PORT_http}"})
	assertEqual(t, task.Config["labels"], []any{map[string]any{"node": "${node.unique.name}"}})
	assertEqual(t, task.Env, map[string]string{"KERNEL": "${attr.kernel.name}"})
}

func TestRuntimeReferenceOutsideStringIsAnError(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`NOMAD_JOB_NAME`, `job.hcl:10:9: Unknown variable; There is no variable named "NOMAD_JOB_NAME". A runtime reference such as attr.*, node.*, meta.*, env[...] or NOMAD_* is filled in by the client, so it can only be written directly inside a string, as "${NOMAD_JOB_NAME}".`},
		{`"${lower(node.class)}"`, `job.hcl:10:18: Unknown variable; There is no variable named "node". A runtime reference such as attr.*, node.*, meta.*, env[...] or NOMAD_* is filled in by the client, so it can only be written directly inside a string, as "${node.class}".`},
		{`"${attr.x == "y" ? "a" : "b"}"`, `job.hcl:10:12: Unknown variable; There is no variable named "attr". A runtime reference such as attr.*, node.*, meta.*, env[...] or NOMAD_* is filled in by the client, so it can only be written directly inside a string, as "${attr.x}".`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			src := "variable \"v\" {\n  default = \"val\"\n}\nlocals {\n  l = 1\n}\njob \"x\" {\n  meta {\n    v = 1\n    w = " + tt.expr + "\n  }\n}\n"
			// Line 10 is "    w = <expr>", the expression starting at column 9.
			if got := parseError(t, src, nil); got != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestRuntimeRefsFile(t *testing.T) {
	job, err := ParseFile("testdata/valid/runtime_refs.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	task := job.TaskGroups[0].Tasks[0]
	assertEqual(t, task.Env, map[string]string{
		"PORT":    "${NOMAD_PORT_http}",
		"SHELL":   `${env["SHELL"]}`,
		"JOB":     "${NOMAD_JOB_NAME}",
		"LITERAL": "${NOT_INTERPOLATED}",
	})
	assertEqual(t, task.Config["args"], []any{
		"--listen", "0.0.0.0:${NOMAD_PORT_http}",
		"--data", "${NOMAD_ALLOC_DIR}/data",
		"--node", "${node.unique.name}",
	})
	assertEqual(t, task.Config["ports"], []any{"http"})
}
