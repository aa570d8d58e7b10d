package jobspec

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestServicesAndChecks(t *testing.T) {
	job, err := ParseFile("testdata/valid/services.hcl", nil)
	if err != nil {
		t.Fatal(err)
	}
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	tg := job.TaskGroups[0]
	if len(tg.Services) != 1 {
		t.Fatalf("group services %+v", tg.Services)
	}
	svc := tg.Services[0]
	if svc.Name != "api" || svc.PortLabel != "http" || strings.Join(svc.Tags, ",") != "v1,public" || svc.Meta["team"] != "core" {
		t.Fatalf("service %+v", svc)
	}
	http := svc.Checks[0]
	want := structs.ServiceCheck{Type: "http", Path: "/health", Method: "GET", Protocol: "http", PortLabel: "http",
		Interval: 2 * time.Second, Timeout: time.Second, ExpectedStatus: 200}
	if http.Type != want.Type || http.Path != want.Path || http.Method != want.Method || http.PortLabel != want.PortLabel ||
		http.Interval != want.Interval || http.Timeout != want.Timeout || http.ExpectedStatus != 200 {
		t.Fatalf("http check %+v", http)
	}
	if http.Header["X-Probe"][0] != "drover" || http.CheckRestart.Limit != 3 || http.CheckRestart.Grace != 10*time.Second {
		t.Fatalf("http check header/restart %+v %+v", http.Header, http.CheckRestart)
	}
	if svc.Checks[1].Name != "tcp" || svc.Checks[1].PortLabel != "http" {
		t.Fatalf("tcp check %+v", svc.Checks[1])
	}
	task := tg.Tasks[0]
	if len(task.Services) != 1 || task.Services[0].Name != "api-web-app" || task.Services[0].Checks[0].Command != "/app" {
		t.Fatalf("task service %+v", task.Services)
	}
}

func TestServiceValidationSaysWhere(t *testing.T) {
	job, err := Parse("svc.hcl", []byte(`
job "api" {
  group "web" {
    service {
      port = "grpc"
      check {
        type     = "http"
        interval = "100ms"
        timeout  = "1s"
      }
    }
    task "app" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	job.Canonicalize()
	err = job.Validate()
	for _, want := range []string{
		`group "web": service "api-web": port "grpc" is not declared`,
		`check "service: \"api-web\" check": http checks need a path`,
		`interval must be at least 1s, got 100ms`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
