package cluster

import (
	"os"
	"path/filepath"
)

// AddClient makes one more client agent, in a namespace of its own, and
// starts it: a machine that joins the cluster later, with a node ID never
// seen before. It joins the first server's gossip address like the others.
// config, when not empty, is an agent config file (HCL) it loads with
// -config, and args are more flags; Options.ClientConfig, ClientArgs and
// the other per-client options of New do not apply to it.
//
// With Options.Clients = 0, a test can start every client with AddClient,
// each with a config of its own (meta, node_class, reserved). Call it from
// the test's goroutine.
func (c *Cluster) AddClient(config string, args ...string) *Agent {
	c.t.Helper()
	if len(c.servers) == 0 {
		c.t.Fatalf("cluster.AddClient: a client needs a server to join")
	}
	index := len(c.servers) + len(c.clients) + 1
	a, err := c.newAgent(index, false)
	if err != nil {
		c.t.Fatalf("cluster.AddClient: %v", err)
	}
	if config != "" {
		path := filepath.Join(c.dir, a.Name+"-added.hcl")
		if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
			c.t.Fatalf("cluster.AddClient: %v", err)
		}
		args = append([]string{"-config", path}, args...)
	}
	a.args = c.clientArgs(a, args)
	// Listed before it starts, so the cleanup stops it and prints its log
	// even when it fails to start.
	c.clients = append(c.clients, a)
	if err := a.start(); err != nil {
		c.t.Fatalf("cluster.AddClient: %v", err)
	}
	return a
}
