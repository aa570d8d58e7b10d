package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
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

func TestClientPublishAddressAndContainerDNSAddress(t *testing.T) {
	c := DefaultConfig()
	src := `client {
  enabled         = true
  publish_address = "10.1.2.3"
  dns {
    container_address = "10.1.2.4"
  }
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if c.Client.PublishAddress != "10.1.2.3" || c.Client.DNS.ContainerAddress != "10.1.2.4" {
		t.Fatalf("publish_address %q, dns.container_address %q", c.Client.PublishAddress, c.Client.DNS.ContainerAddress)
	}
	a := &Agent{cfg: c}
	if got := a.publishIP(); got != "10.1.2.3" {
		t.Errorf("publishIP = %q", got)
	}
	// Unset, ports are published where the agent is bound, as before.
	for bind, want := range map[string]string{"10.0.0.7": "10.0.0.7", "0.0.0.0": "127.0.0.1", "127.0.0.1": "127.0.0.1"} {
		d := DefaultConfig()
		d.BindAddr = bind
		if got := (&Agent{cfg: d}).publishIP(); got != want {
			t.Errorf("bind %s: publishIP = %q, want %q", bind, got, want)
		}
	}
	for _, bad := range []string{
		"client {\n  publish_address = \"eth0\"\n}\n",
		"client {\n  publish_address = \"0.0.0.0\"\n}\n",
		"client {\n  dns {\n    container_address = \"nope\"\n  }\n}\n",
	} {
		err := DefaultConfig().loadConfig("agent.hcl", []byte(bad))
		if err == nil || !strings.Contains(err.Error(), "agent.hcl") ||
			!(strings.Contains(err.Error(), "client.publish_address") || strings.Contains(err.Error(), "client.dns.container_address")) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// recordingEvents and recordingDelegate note what the lazy gossip passes on.
type recordingEvents struct{ got []string }

func (r *recordingEvents) NotifyJoin(n *memberlist.Node)   { r.got = append(r.got, "join "+n.Name) }
func (r *recordingEvents) NotifyLeave(n *memberlist.Node)  { r.got = append(r.got, "leave "+n.Name) }
func (r *recordingEvents) NotifyUpdate(n *memberlist.Node) { r.got = append(r.got, "update "+n.Name) }

type recordingDelegate struct{ msgs, states [][]byte }

func (r *recordingDelegate) NodeMeta(int) []byte               { return nil }
func (r *recordingDelegate) NotifyMsg(b []byte)                { r.msgs = append(r.msgs, b) }
func (r *recordingDelegate) GetBroadcasts(int, int) [][]byte   { return [][]byte{{0xC1, 1}} }
func (r *recordingDelegate) LocalState(bool) []byte            { return []byte{0xC2} }
func (r *recordingDelegate) MergeRemoteState(b []byte, _ bool) { r.states = append(r.states, b) }

func TestLazyGossipReplaysTheMembersSeenBeforeThePlug(t *testing.T) {
	l := newLazyGossip()
	ds := l.delegates()
	// Before the catalog exists: nothing to send, messages dropped,
	// membership kept.
	if b := ds.Delegate.GetBroadcasts(2, 1400); b != nil {
		t.Errorf("broadcasts before the plug: %v", b)
	}
	if s := ds.Delegate.LocalState(false); s != nil {
		t.Errorf("local state before the plug: %v", s)
	}
	ds.Delegate.NotifyMsg([]byte{0xC1, 9})
	ds.Delegate.MergeRemoteState([]byte{0xC2, 9}, false)
	ds.Events.NotifyJoin(&memberlist.Node{Name: "self.global"})
	ds.Events.NotifyJoin(&memberlist.Node{Name: "b"})
	ds.Events.NotifyJoin(&memberlist.Node{Name: "c"})
	ds.Events.NotifyLeave(&memberlist.Node{Name: "b"})

	ev, d := &recordingEvents{}, &recordingDelegate{}
	l.plug(d, ev)
	if want := []string{"join self.global", "leave b", "join c"}; !slices.Equal(ev.got, want) {
		t.Errorf("replayed %v, want %v", ev.got, want)
	}
	if len(d.msgs)+len(d.states) != 0 {
		t.Errorf("messages from before the plug reached the catalog: %v %v", d.msgs, d.states)
	}

	// Afterwards everything passes straight through.
	ds.Events.NotifyJoin(&memberlist.Node{Name: "b"})
	ds.Events.NotifyUpdate(&memberlist.Node{Name: "c"})
	if want := []string{"join self.global", "leave b", "join c", "join b", "update c"}; !slices.Equal(ev.got, want) {
		t.Errorf("events %v, want %v", ev.got, want)
	}
	ds.Delegate.NotifyMsg([]byte{0xC1, 1})
	ds.Delegate.MergeRemoteState([]byte{0xC2, 2}, true)
	if len(d.msgs) != 1 || len(d.states) != 1 {
		t.Errorf("messages %v, states %v", d.msgs, d.states)
	}
	if b := ds.Delegate.GetBroadcasts(2, 1400); len(b) != 1 {
		t.Errorf("broadcasts %v", b)
	}
	if s := ds.Delegate.LocalState(false); len(s) != 1 || s[0] != 0xC2 {
		t.Errorf("local state %v", s)
	}
	if m := ds.Delegate.NodeMeta(512); m != nil {
		t.Errorf("node meta %v: the pool keeps its own", m)
	}
}
