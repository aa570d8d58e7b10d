package e2e

import (
	"fmt"
	"strings"
)

// webJob is the shape most tests run: a service job with one group that
// runs the demo app as task "app", reachable on the group's port "http"
// (mapped to 8080, where the app listens), with cpu 100 and memory 64.
// A test names the job and adds the blocks it is about; HCL() writes the
// source the test hands to `drover job run`.
type webJob struct {
	Name  string
	Group string // the group's name; "web" when empty
	Count int    // the group's count; left out (so 1) when 0

	// Blocks and attributes added verbatim, written without indentation:
	// Job's at the top of the job, GroupExtra's after the group's network,
	// TaskExtra's after the task's config.
	Job, GroupExtra, TaskExtra string
}

// HCL is the job's source.
func (d webJob) HCL() string {
	group := d.Group
	if group == "" {
		group = "web"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "job %q {\n  datacenters = [\"*\"]\n", d.Name)
	b.WriteString(indent(d.Job, "  "))
	fmt.Fprintf(&b, "  group %q {\n", group)
	if d.Count > 0 {
		fmt.Fprintf(&b, "    count = %d\n", d.Count)
	}
	b.WriteString(`    network {
      port "http" { to = 8080 }
    }
`)
	b.WriteString(indent(d.GroupExtra, "    "))
	b.WriteString(`    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        ports = ["http"]
      }
`)
	b.WriteString(indent(d.TaskExtra, "      "))
	b.WriteString(`      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`)
	return b.String()
}

// indent puts prefix before each line of src that is not blank, so the
// source a test writes (and shows when it fails) reads as HCL is written.
func indent(src, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(strings.TrimLeft(src, "\n")) {
		if strings.TrimSpace(line) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	return b.String()
}

// restartThreeTimes restarts a failed task three times a minute, a second
// apart, then fails the allocation.
const restartThreeTimes = `
restart {
  attempts = 3
  interval = "1m"
  delay    = "1s"
  mode     = "fail"
}
`

// ingressService is a service named name on the group's port "http",
// registered with drover's catalog, checked on /health every second and
// reached through an http ingress on ingressPort of every node. extra
// goes into the service block (tags, meta).
func ingressService(name string, ingressPort int, extra string) string {
	return fmt.Sprintf(`service {
  name     = %q
  port     = "http"
  provider = "nomad"
%s  check {
    type     = "http"
    path     = "/health"
    interval = "1s"
    timeout  = "1s"
  }
  ingress {
    port     = %d
    protocol = "http"
  }
}
`, name, indent(extra, "  "), ingressPort)
}

// healthFileEnv points the demo app's /health at a file in the task's
// local dir: /health answers 500 while the file holds "fail", so a test
// turns an instance unhealthy and back with alloc exec.
const healthFileEnv = `
env {
  HEALTH_FILE = "/local/health"
}
`
