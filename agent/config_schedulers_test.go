package agent

import (
	"strings"
	"testing"
)

func TestNumSchedulers(t *testing.T) {
	c := DefaultConfig()
	if err := c.loadConfig("agent.hcl", []byte("server { enabled = true }\n")); err != nil {
		t.Fatal(err)
	}
	if c.Server.NumSchedulers != 0 {
		t.Fatalf("unset num_schedulers = %d, want 0 (one per core)", c.Server.NumSchedulers)
	}
	if err := c.loadConfig("agent.hcl", []byte("server { num_schedulers = 6 }\n")); err != nil {
		t.Fatal(err)
	}
	if c.Server.NumSchedulers != 6 {
		t.Fatalf("num_schedulers = %d, want 6", c.Server.NumSchedulers)
	}
	// A later file that does not name it keeps it.
	if err := c.loadConfig("more.hcl", []byte("server { bootstrap_expect = 1 }\n")); err != nil {
		t.Fatal(err)
	}
	if c.Server.NumSchedulers != 6 {
		t.Fatalf("num_schedulers = %d after a second file, want 6", c.Server.NumSchedulers)
	}
}

func TestNumSchedulersMustBePositive(t *testing.T) {
	for _, src := range []string{"server { num_schedulers = 0 }", "server { num_schedulers = -2 }"} {
		err := DefaultConfig().loadConfig("agent.hcl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "agent.hcl") || !strings.Contains(err.Error(), "server.num_schedulers") {
			t.Errorf("%s: got %v, want an error naming agent.hcl and server.num_schedulers", src, err)
		}
	}
}
