package jobspec

import (
	"strings"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestServiceIngress(t *testing.T) {
	src := func(ingress string) []byte {
		return []byte(`
job "api" {
  group "web" {
    network {
      port "http" { to = 8080 }
    }
    service {
      name = "api"
      port = "http"
      ` + ingress + `
    }
    task "app" {
      driver = "docker"
      config { image = "x:1" }
    }
  }
}`)
	}
	job, err := Parse("ingress.hcl", src(`ingress {
        port      = 9090
        protocol  = "http"
        algorithm = "least_conn"
      }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	job.Canonicalize()
	if err := job.Validate(); err != nil {
		t.Fatal(err)
	}
	want := structs.ServiceIngress{Port: 9090, Protocol: "http", Algorithm: "least_conn"}
	if in := job.TaskGroups[0].Services[0].Ingress; in == nil || *in != want {
		t.Fatalf("ingress = %+v, want %+v", in, want)
	}

	job, err = Parse("ingress.hcl", src(`ingress { port = 9090 }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	job.Canonicalize()
	if in := job.TaskGroups[0].Services[0].Ingress; in.Protocol != "tcp" || in.Algorithm != "round_robin" {
		t.Errorf("defaults: %+v", in)
	}

	for block, wantErr := range map[string]string{
		`ingress { port = 0 }`:                           "ingress: port must be between 1 and 65535",
		"ingress {\n port = 80\n protocol = \"udp\"\n }": `ingress: protocol must be "tcp" or "http", got "udp"`,
		"ingress {\n port = 80\n algorithm = \"ip\"\n }": `ingress: algorithm must be "round_robin" or "least_conn"`,
	} {
		job, err := Parse("ingress.hcl", src(block), nil)
		if err == nil {
			job.Canonicalize()
			err = job.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), `service "api"`) {
			t.Errorf("%s: got %v, want %q", block, err, wantErr)
		}
	}
	if _, err := Parse("ingress.hcl", src(`ingress { protocol = "http" }`), nil); err == nil || !strings.Contains(err.Error(), "ingress.hcl:") {
		t.Errorf("an ingress without a port: %v", err)
	}
}
