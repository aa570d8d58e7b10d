package agent

import (
	"strings"
	"testing"
)

func TestLoadConfigMergesOnlyWhatIsSet(t *testing.T) {
	c := DefaultConfig()
	src := `
name = "n1"
data_dir = "/var/lib/drover"
ports {
  http = 5000
}
server {
  enabled = true
  bootstrap_expect = 1
}
client {
  enabled = true
  meta = { rack = "r1" }
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if c.Name != "n1" || c.DataDir != "/var/lib/drover" || c.Ports.HTTP != 5000 || c.Ports.RPC != DefaultRPCPort {
		t.Fatalf("merged %+v", c)
	}
	if !c.Server.Enabled || !c.Client.Enabled || c.Client.Meta["rack"] != "r1" || c.BindAddr != "127.0.0.1" {
		t.Fatalf("merged %+v", c)
	}
}

func TestLoadConfigUnknownAttributeHasPosition(t *testing.T) {
	c := DefaultConfig()
	err := c.loadConfig("agent.hcl", []byte("name = \"x\"\n  colour = \"red\"\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "agent.hcl:2:3: Unsupported argument") {
		t.Fatalf("error %v", err)
	}
}

func TestValidateNeedsARole(t *testing.T) {
	c := DefaultConfig()
	c.DataDir = "/tmp/x"
	if err := c.Validate(); err == nil {
		t.Fatal("want an error for an agent with no role")
	}
}
