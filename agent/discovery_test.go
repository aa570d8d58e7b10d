package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClientDNSSettings(t *testing.T) {
	c := DefaultConfig()
	src := `client {
  enabled = true
  dns {
    port          = 5353
    recursors     = ["10.0.0.2", "10.0.0.3:53"]
    container_dns = false
  }
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	d := c.Client.DNS
	if d.Port != 5353 || !slices.Equal(d.Recursors, []string{"10.0.0.2", "10.0.0.3:53"}) || !d.NoContainerDNS || d.Disabled {
		t.Fatalf("dns config: %+v", d)
	}
	if err := DefaultConfig().loadConfig("agent.hcl", []byte("client {\n  dns {\n    port = 70000\n  }\n}\n")); err == nil ||
		!strings.Contains(err.Error(), "client.dns.port") {
		t.Errorf("a port out of range: %v", err)
	}
	c = DefaultConfig()
	if err := c.loadConfig("agent.hcl", []byte("client {\n  dns {\n    enabled = false\n  }\n}\n")); err != nil || !c.Client.DNS.Disabled {
		t.Errorf("enabled = false: %v, %+v", err, c.Client.DNS)
	}
}

func TestHostResolvers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("# comment\nsearch example.com\nnameserver 10.0.0.2\nnameserver fe80::1\noptions ndots:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := hostResolvers(path); !slices.Equal(got, []string{"10.0.0.2", "fe80::1"}) {
		t.Errorf("resolvers = %v", got)
	}
	if got := hostResolvers(filepath.Join(t.TempDir(), "missing")); got != nil {
		t.Errorf("resolvers of a missing file = %v", got)
	}
}
