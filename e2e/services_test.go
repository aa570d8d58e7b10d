package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/drover-project/drover/structs"
)

// servicesJob is the services test's job, its service behind an http
// ingress on ingressPort.
func servicesJob(ingressPort int) string {
	return webJob{Name: "e2e-services", Count: 2, GroupExtra: ingressService("api", ingressPort, `
tags = ["v1", "web"]
meta = { team = "core" }
`), TaskExtra: healthFileEnv}.HCL()
}

// TestServiceDiscoveryOnOneNode registers a checked service with two
// instances and finds them through every path: the HTTP API, the CLI,
// DNS on the agent's port, the ingress balancer, and DNS from inside a
// container; stopping the job removes them everywhere.
func TestServiceDiscoveryOnOneNode(t *testing.T) {
	dnsPort, ingressPort := freePort(t), freePort(t)
	cfg := filepath.Join(t.TempDir(), "dns.hcl")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "client {\n  dns {\n    port = %d\n  }\n}\n", dnsPort), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "-config", cfg)

	out, code := drover(t, a, "job", "run", writeJob(t, servicesJob(ingressPort)))
	if code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
	allocs := waitRunning(t, a.Addr, "e2e-services", 2)
	want := map[string]int{} // alloc ID → host port
	for _, alloc := range allocs {
		_, port := hostPort(alloc, "http")
		want[alloc.ID] = port
	}

	// The API lists both instances, healthy, at their host addresses.
	var regs []*structs.ServiceRegistration
	waitFor(t, 60*time.Second, "two healthy instances of api", func() (bool, error) {
		regs = nil
		if err := getJSON(a.Addr+"/v1/service/api", &regs); err != nil {
			return false, err
		}
		healthy := 0
		for _, r := range regs {
			if r.Health == structs.HealthPassing {
				healthy++
			}
		}
		return len(regs) == 2 && healthy == 2, fmt.Errorf("%d instances, %d healthy", len(regs), healthy)
	})
	for _, r := range regs {
		if port, ok := want[r.AllocID]; !ok || r.Port != port || r.Address == "" || r.JobID != "e2e-services" || r.Datacenter != "dc1" ||
			!slices.Equal(r.Tags, []string{"v1", "web"}) || r.Meta["team"] != "core" || r.Namespace != "default" {
			t.Errorf("instance %+v does not match its allocation (host port %d)", r, want[r.AllocID])
		}
	}
	var list []*structs.ServiceRegistrationListStub
	if err := getJSON(a.Addr+"/v1/services", &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Namespace != "default" || len(list[0].Services) != 1 ||
		list[0].Services[0].ServiceName != "api" || !slices.Equal(list[0].Services[0].Tags, []string{"v1", "web"}) {
		t.Errorf("GET /v1/services = %s", mustJSON(list))
	}

	// Nomad's own Go client reads them.
	nc := nomadClient(t, a.Addr)
	nlist, _, err := nc.Services().List(nil)
	if err != nil || len(nlist) != 1 || len(nlist[0].Services) != 1 || nlist[0].Services[0].ServiceName != "api" {
		t.Errorf("Nomad client's Services().List: %s, %v", mustJSON(nlist), err)
	}
	ninfo, _, err := nc.Services().Get("api", nil)
	if err != nil || len(ninfo) != 2 || ninfo[0].Port == 0 || ninfo[0].AllocID == "" {
		t.Errorf("Nomad client's Services().Get: %s, %v", mustJSON(ninfo), err)
	}

	// The CLI shows them.
	out, code = drover(t, a, "service", "list")
	if code != 0 || !strings.Contains(out, "Service Name") || !strings.Contains(out, "api") || !strings.Contains(out, "[v1,web]") {
		t.Errorf("service list exited %d:\n%s", code, out)
	}
	out, code = drover(t, a, "service", "info", "api")
	if code != 0 || !strings.Contains(out, "Health") || strings.Count(out, "passing") != 2 || strings.Count(out, "e2e-services") != 2 {
		t.Errorf("service info exited %d:\n%s", code, out)
	}

	// DNS on the agent's port answers both instances.
	dnsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsPort))
	waitFor(t, 10*time.Second, "DNS answers for api.service.drover", func() (bool, error) {
		ports, err := srvPorts(dnsAddr, "api.service.drover.")
		if err != nil {
			return false, err
		}
		slices.Sort(ports)
		wantPorts := []int{}
		for _, p := range want {
			wantPorts = append(wantPorts, p)
		}
		slices.Sort(wantPorts)
		return slices.Equal(ports, wantPorts), fmt.Errorf("SRV ports %v, want %v", ports, wantPorts)
	})
	// One A record per distinct address: a dev agent's instances share 127.0.0.1.
	addrs := map[string]bool{}
	for _, r := range regs {
		addrs[r.Address] = true
	}
	if n, err := aRecords(dnsAddr, "api.service.drover."); err != nil || n != len(addrs) {
		t.Errorf("A records for api.service.drover: %d, %v; want %d", n, err, len(addrs))
	}
	if n, err := aRecords(dnsAddr, "web.api.service.drover."); err != nil || n != len(addrs) {
		t.Errorf("A records for the tag web: %d, %v; want %d", n, err, len(addrs))
	}
	if n, err := aRecords(dnsAddr, "nope.api.service.drover."); err != nil || n != 0 {
		t.Errorf("A records for an unknown tag: %d, %v", n, err)
	}

	// The ingress port balances over both instances.
	seen := map[string]int{}
	waitFor(t, 20*time.Second, "the ingress to reach both instances", func() (bool, error) {
		alloc, err := askURL(fmt.Sprintf("http://127.0.0.1:%d/", ingressPort))
		if err != nil {
			return false, err
		}
		seen[alloc]++
		return len(seen) == 2, fmt.Errorf("instances seen: %v", seen)
	})
	for id := range seen {
		if _, ok := want[id]; !ok {
			t.Errorf("the ingress reached %q, not an allocation of the job", id)
		}
	}

	// An instance whose check fails leaves DNS and the balancer, and
	// returns when it passes again.
	sick, other := allocs[0], allocs[1]
	setHealth := func(word string) {
		t.Helper()
		if out, code := drover(t, a, "alloc", "exec", "-task", "app", sick.ID, "/app", "write", "/local/health", word); code != 0 {
			t.Fatalf("alloc exec write %s exited %d:\n%s", word, code, out)
		}
	}
	setHealth("fail")
	waitFor(t, 30*time.Second, "the failing instance to leave DNS and the API's healthy list", func() (bool, error) {
		ports, err := srvPorts(dnsAddr, "api.service.drover.")
		if err != nil {
			return false, err
		}
		var regs []*structs.ServiceRegistration
		if err := getJSON(a.Addr+"/v1/service/api", &regs); err != nil {
			return false, err
		}
		critical := 0
		for _, r := range regs {
			if r.AllocID == sick.ID && r.Health == structs.HealthCritical {
				critical++
			}
		}
		return len(ports) == 1 && ports[0] == want[other.ID] && critical == 1, fmt.Errorf("SRV ports %v, %d critical", ports, critical)
	})
	for range 6 {
		if got, err := askURL(fmt.Sprintf("http://127.0.0.1:%d/", ingressPort)); err != nil || got != other.ID {
			t.Fatalf("the ingress answered from %q (%v) while only %s is healthy", got, err, other.ID)
		}
	}
	setHealth("ok")
	waitFor(t, 30*time.Second, "the instance to return to DNS", func() (bool, error) {
		ports, err := srvPorts(dnsAddr, "api.service.drover.")
		return len(ports) == 2, fmt.Errorf("SRV ports %v (%v)", ports, err)
	})

	// A task resolves the service by name from inside its container, when
	// the agent could give containers its DNS server (port 53 on the Docker
	// bridge; another agent on this machine may hold it).
	if strings.Contains(a.Log(), "containers keep Docker's resolver") {
		t.Log("skipping the in-container lookup: the bridge's DNS port is taken")
	} else {
		out, code = drover(t, a, "alloc", "exec", "-task", "app", allocs[0].ID, "/app", "lookup", "api.service.drover")
		got := strings.Fields(out)
		slices.Sort(got)
		var wantAddrs []string
		for addr := range addrs {
			wantAddrs = append(wantAddrs, addr)
		}
		slices.Sort(wantAddrs)
		if code != 0 || !slices.Equal(got, wantAddrs) {
			t.Errorf("lookup inside the container exited %d with %v, want %v:\n%s", code, got, wantAddrs, out)
		}
	}

	// Stopping the job deregisters the instances everywhere.
	if out, code := drover(t, a, "job", "stop", "e2e-services"); code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}
	waitFor(t, 60*time.Second, "the instances to be deregistered", func() (bool, error) {
		regs = nil
		if err := getJSON(a.Addr+"/v1/service/api", &regs); err != nil {
			return false, err
		}
		n, err := aRecords(dnsAddr, "api.service.drover.")
		return len(regs) == 0 && n == 0, fmt.Errorf("%d instances in the API, %d in DNS (%v)", len(regs), n, err)
	})
}

// TestIngressPortClashIsRefused refuses a job whose ingress port another
// job's service already uses.
func TestIngressPortClashIsRefused(t *testing.T) {
	a := startAgent(t)
	port := freePort(t)
	job := func(id string) string {
		return fmt.Sprintf(`
job %q {
  datacenters = ["*"]
  group "g" {
    network {
      port "http" { to = 8080 }
    }
    service {
      name = %q
      port = "http"
      ingress { port = %d }
    }
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
        ports = ["http"]
      }
    }
  }
}
`, id, id+"-svc", port)
	}
	if out, code := drover(t, a, "job", "run", "-detach", writeJob(t, job("first"))); code != 0 {
		t.Fatalf("first job exited %d:\n%s", code, out)
	}
	out, code := drover(t, a, "job", "run", "-detach", writeJob(t, job("second")))
	if code == 0 || !strings.Contains(out, fmt.Sprintf("ingress port %d is already used by service \"first-svc\" of job \"first\"", port)) {
		t.Errorf("second job exited %d:\n%s", code, out)
	}
	if out, code := drover(t, a, "job", "stop", "-purge", "first"); code != 0 {
		t.Errorf("job stop exited %d:\n%s", code, out)
	}
}

// freePort returns a port that was free for both TCP and UDP on loopback.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port for both TCP and UDP")
	return 0
}

func srvPorts(server, name string) ([]int, error) {
	in, err := dns.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeSRV), server)
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, rr := range in.Answer {
		if srv, ok := rr.(*dns.SRV); ok {
			ports = append(ports, int(srv.Port))
		}
	}
	return ports, nil
}

func aRecords(server, name string) (int, error) {
	in, err := dns.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), server)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rr := range in.Answer {
		if _, ok := rr.(*dns.A); ok {
			n++
		}
	}
	return n, nil
}

// askURL returns the allocation ID the demo app answers with.
func askURL(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var ans demoAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return "", fmt.Errorf("answer %q: %w", body, err)
	}
	return ans.Alloc, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
