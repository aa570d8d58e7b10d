package http_test

import (
	"encoding/json"
	"errors"
	"testing"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/structs"
)

func TestJobsParseWithParser(t *testing.T) {
	var gotSrc, gotVars string
	e := newEnv(t, func(c *agenthttp.Config) {
		c.ParseJob = func(src []byte, vars string) (*structs.Job, error) {
			gotSrc, gotVars = string(src), vars
			if string(src) == "broken" {
				return nil, errors.New("input.hcl:1,1-7: Argument or block definition required")
			}
			return &structs.Job{ID: "web", TaskGroups: []*structs.TaskGroup{{Name: "g", Tasks: []*structs.Task{{Name: "t"}}}}}, nil
		}
	})

	_, body := e.do(t, "POST", "/v1/jobs/parse", `{"JobHCL": "job \"web\" {}", "Variables": "image = \"x\""}`)
	var job structs.Job
	if err := json.Unmarshal([]byte(body), &job); err != nil || job.ID != "web" || job.Namespace != "" {
		t.Fatalf("parse answered %s (%v)", body, err)
	}
	if gotSrc != `job "web" {}` || gotVars != `image = "x"` {
		t.Fatalf("parser got src %q vars %q", gotSrc, gotVars)
	}

	// Canonicalize fills the defaults.
	_, body = e.do(t, "PUT", "/v1/jobs/parse", `{"JobHCL": "job \"web\" {}", "Canonicalize": true}`)
	if err := json.Unmarshal([]byte(body), &job); err != nil || job.Namespace != "default" || job.Type != "service" {
		t.Fatalf("canonical parse answered %s (%v)", body, err)
	}

	e.wantStatus(t, "POST", "/v1/jobs/parse", `{"JobHCL": "broken"}`, 400, "input.hcl:1,1-7")
	e.wantStatus(t, "POST", "/v1/jobs/parse", `{"JobHCL": ""}`, 400, "JobHCL must be specified")
	e.wantStatus(t, "POST", "/v1/jobs/parse", `{"JobHCL": "x", "hclv1": true}`, 400, "HCLv1")
	e.wantStatus(t, "GET", "/v1/jobs/parse", "", 405, "Method Not Allowed")
}

// TestJobsParseWithJobspec goes through the real job file parser.
func TestJobsParseWithJobspec(t *testing.T) {
	e := newEnv(t)
	src := `variable "image" { type = string }
job "web" {
  group "g" {
    task "t" {
      driver = "docker"
      config { image = var.image }
    }
  }
}`
	req, _ := json.Marshal(structs.JobsParseRequest{JobHCL: src, Variables: `image = "nginx:1"`, Canonicalize: true})
	_, body := e.do(t, "POST", "/v1/jobs/parse", string(req))
	var job structs.Job
	if err := json.Unmarshal([]byte(body), &job); err != nil {
		t.Fatalf("parse answered %s: %v", body, err)
	}
	if job.ID != "web" || job.TaskGroups[0].Tasks[0].Config["image"] != "nginx:1" || job.Priority != 50 {
		t.Fatalf("parsed job %s", body)
	}
	e.wantStatus(t, "POST", "/v1/jobs/parse", `{"JobHCL": "job \"web\" { nonsense = 1 }"}`, 400, "input.hcl:1")
}
