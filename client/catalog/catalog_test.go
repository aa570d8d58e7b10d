package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/structs"
)

// node is one catalog on a real memberlist on 127.0.0.1.
type node struct {
	cat *Catalog
	ml  *memberlist.Memberlist
}

func startNode(t *testing.T, name string, clk *clocktest.Fake, join ...*node) *node {
	t.Helper()
	cat, err := New(Config{NodeID: "node-" + name, MemberName: name, Datacenter: "dc1", Clock: clk, LeaveGrace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cat.Close)
	return rejoin(t, cat, name, join...)
}

// rejoin puts a catalog on a new memberlist and joins the given nodes.
func rejoin(t *testing.T, cat *Catalog, name string, join ...*node) *node {
	t.Helper()
	conf := memberlist.DefaultLocalConfig()
	conf.Name = name
	conf.BindAddr = "127.0.0.1"
	conf.BindPort = 0
	conf.LogOutput = io.Discard
	conf.Delegate = cat.Delegate()
	conf.Events = cat.EventDelegate()
	ml, err := memberlist.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ml.Shutdown() })
	var addrs []string
	for _, j := range join {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", j.ml.LocalNode().Port))
	}
	if len(addrs) > 0 {
		if _, err := ml.Join(addrs); err != nil {
			t.Fatal(err)
		}
	}
	return &node{cat: cat, ml: ml}
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func instance(id, service string, port int, tags ...string) *structs.ServiceRegistration {
	return &structs.ServiceRegistration{ID: id, ServiceName: service, Address: "10.0.0.1", Port: port, Tags: tags,
		Namespace: "default", JobID: "web", AllocID: "alloc-" + id}
}

func ids(regs []structs.ServiceRegistration) map[string]string {
	out := map[string]string{}
	for _, r := range regs {
		out[r.ID] = r.Health
	}
	return out
}

func TestGossipConverges(t *testing.T) {
	clk := clocktest.NewFake()
	a := startNode(t, "a", clk)
	b := startNode(t, "b", clk, a)
	c := startNode(t, "c", clk, a)
	all := []*node{a, b, c}

	if err := a.cat.Register(instance("api-1", "api", 8080, "v1")); err != nil {
		t.Fatal(err)
	}
	if err := b.cat.Register(instance("api-2", "api", 8081, "v2")); err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		eventually(t, n.ml.LocalNode().Name+" sees both instances", func() bool { return len(n.cat.Healthy("api", "", "")) == 2 })
	}
	if got := c.cat.Healthy("api", "v2", "dc1"); len(got) != 1 || got[0].ID != "api-2" || got[0].NodeID != "node-b" || got[0].Port != 8081 {
		t.Fatalf("tag filter on c: %+v", got)
	}
	if got := c.cat.Healthy("api", "", "dc2"); len(got) != 0 {
		t.Fatalf("datacenter filter on c: %+v", got)
	}
	if got := c.cat.Services(); len(got) != 1 || got[0] != "api" {
		t.Fatalf("services on c: %v", got)
	}

	// A health change reaches everyone, and so does its recovery.
	checks := []structs.ServiceCheckStatus{{Name: "http", Status: structs.CheckCritical}}
	if err := a.cat.SetHealth("api-1", false, checks); err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		eventually(t, n.ml.LocalNode().Name+" sees api-1 critical", func() bool {
			h := n.cat.Healthy("api", "", "")
			return len(h) == 1 && h[0].ID == "api-2" && ids(n.cat.All("api"))["api-1"] == structs.HealthCritical
		})
	}
	if got := c.cat.All("api"); len(got[0].Checks) != 1 || got[0].Checks[0].Status != structs.CheckCritical {
		t.Fatalf("check statuses on c: %+v", got)
	}
	if err := a.cat.SetHealth("api-1", true, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		eventually(t, n.ml.LocalNode().Name+" sees api-1 passing again", func() bool { return len(n.cat.Healthy("api", "", "")) == 2 })
	}

	// A deregistration removes the instance everywhere.
	b.cat.Deregister("api-2")
	for _, n := range all {
		eventually(t, n.ml.LocalNode().Name+" forgets api-2", func() bool { return len(n.cat.All("api")) == 1 })
	}

	// A node that joins later learns the whole catalog.
	d := startNode(t, "d", clk, c)
	eventually(t, "d learns api-1", func() bool {
		h := d.cat.Healthy("api", "", "")
		return len(h) == 1 && h[0].ID == "api-1"
	})
}

func TestNodeThatLeavesExpires(t *testing.T) {
	clk := clocktest.NewFake()
	a := startNode(t, "a", clk)
	b := startNode(t, "b", clk, a)
	c := startNode(t, "c", clk, a)
	if err := c.cat.Register(instance("db-1", "db", 5432)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, b} {
		eventually(t, "the instance of c spreads", func() bool { return len(n.cat.Healthy("db", "", "")) == 1 })
	}

	leave := func() {
		t.Helper()
		if err := c.ml.Leave(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := c.ml.Shutdown(); err != nil {
			t.Fatal(err)
		}
		for _, n := range []*node{a, b} {
			// Out of service at once, still listed during the grace...
			eventually(t, "the instance of c leaves service", func() bool { return len(n.cat.Healthy("db", "", "")) == 0 })
			if got := n.cat.All("db"); len(got) != 1 {
				t.Fatalf("removed before the grace: %+v", got)
			}
		}
	}
	leave()

	// c comes back within the grace (same catalog, new memberlist): its
	// instance returns to service.
	c = rejoin(t, c.cat, "c", a)
	for _, n := range []*node{a, b} {
		eventually(t, "the instance of c returns", func() bool { return len(n.cat.Healthy("db", "", "")) == 1 })
	}

	leave()
	// ...and removed after the grace.
	clk.Advance(11 * time.Second)
	for _, n := range []*node{a, b} {
		// Each poll moves the clock on by a reap interval: a reap loop
		// may set its next timer only after the advance above.
		eventually(t, "the instance of c expires", func() bool {
			clk.Advance(time.Second)
			return len(n.cat.All("db")) == 0
		})
	}
}

// The tests below feed messages by hand to a catalog without a network.

func newCatalog(t *testing.T, id string) (*Catalog, *clocktest.Fake) {
	t.Helper()
	clk := clocktest.NewFake()
	c, err := New(Config{NodeID: id, Datacenter: "dc1", Clock: clk, LeaveGrace: 10 * time.Second, TombstoneTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, clk
}

func updateMsg(t *testing.T, origin string, version uint64, id string, reg *structs.ServiceRegistration) []byte {
	t.Helper()
	b, err := json.Marshal(update{Origin: origin, Member: origin, Entry: wireEntry{ID: id, Version: version, Reg: reg}})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{MsgUpdate}, b...)
}

func stateMsg(t *testing.T, origin string, version uint64, entries ...wireEntry) []byte {
	t.Helper()
	return relayedStateMsg(t, origin, origin, version, entries...)
}

func relayedStateMsg(t *testing.T, origin, owner string, version uint64, entries ...wireEntry) []byte {
	t.Helper()
	b, err := json.Marshal(state{Origin: origin, Owners: []section{{Owner: owner, Member: owner, Snapshot: version, Entries: entries}}})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{MsgState}, b...)
}

func owned(node, id string, health string) *structs.ServiceRegistration {
	r := instance(id, "api", 80)
	r.NodeID, r.Datacenter, r.Health = node, "dc1", health
	return r
}

func TestForgedMessagesAreIgnored(t *testing.T) {
	c, _ := newCatalog(t, "self")
	d := c.Delegate()
	d.NotifyMsg(updateMsg(t, "y", 10, "api-y", owned("y", "api-y", structs.HealthPassing)))
	if len(c.Healthy("api", "", "")) != 1 {
		t.Fatal("y's own instance was not accepted")
	}
	if err := c.Register(instance("api-self", "api", 81)); err != nil {
		t.Fatal(err)
	}

	forged := [][]byte{
		// x speaks about y's instance (by its node)...
		updateMsg(t, "x", 99, "api-y", owned("y", "api-y", structs.HealthCritical)),
		// ...claims y's instance ID as its own...
		updateMsg(t, "x", 99, "api-y", owned("x", "api-y", structs.HealthCritical)),
		// ...deletes y's instance...
		updateMsg(t, "x", 99, "api-y", nil),
		// ...or this node's.
		updateMsg(t, "x", 99, "api-self", nil),
		updateMsg(t, "self", 99, "api-self", nil),
		// A full state of x carrying y's instance.
		stateMsg(t, "x", 99, wireEntry{ID: "api-y", Version: 99, Reg: owned("y", "api-y", structs.HealthCritical)}),
	}
	for i, msg := range forged {
		if msg[0] == MsgState {
			d.MergeRemoteState(msg, false)
		} else {
			d.NotifyMsg(msg)
		}
		if got := ids(c.All("api")); len(got) != 2 || got["api-y"] != structs.HealthPassing || got["api-self"] != structs.HealthPassing {
			t.Fatalf("forged message %d changed the catalog: %v", i, got)
		}
	}
	if got := c.All("api"); got[1].NodeID != "y" {
		t.Fatalf("api-y changed owner: %+v", got[1])
	}
}

func TestLastWriterWinsAndTombstones(t *testing.T) {
	c, clk := newCatalog(t, "self")
	d := c.Delegate()

	d.NotifyMsg(updateMsg(t, "y", 5, "api-1", owned("y", "api-1", structs.HealthCritical)))
	d.NotifyMsg(updateMsg(t, "y", 4, "api-1", owned("y", "api-1", structs.HealthPassing)))
	if got := ids(c.All("api")); got["api-1"] != structs.HealthCritical {
		t.Fatalf("an older message won: %v", got)
	}
	d.NotifyMsg(updateMsg(t, "y", 6, "api-1", nil))
	d.NotifyMsg(updateMsg(t, "y", 5, "api-1", owned("y", "api-1", structs.HealthPassing)))
	if got := c.All("api"); len(got) != 0 {
		t.Fatalf("a late message brought a deleted instance back: %+v", got)
	}

	// The tombstone expires after its TTL.
	eventually(t, "the reaper waits", func() bool { return clk.Timers() > 0 })
	clk.Advance(2 * time.Minute)
	eventually(t, "the tombstone expires", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.owners["y"].entries) == 0
	})
}

func TestFullStateRemovesWhatTheOwnerNoLongerHas(t *testing.T) {
	c, _ := newCatalog(t, "self")
	d := c.Delegate()
	d.NotifyMsg(updateMsg(t, "y", 5, "api-1", owned("y", "api-1", structs.HealthPassing)))
	d.NotifyMsg(updateMsg(t, "y", 6, "api-2", owned("y", "api-2", structs.HealthPassing)))
	d.NotifyMsg(updateMsg(t, "y", 9, "api-3", owned("y", "api-3", structs.HealthPassing)))

	// y's state as of version 8 lists only api-2, changed: api-1 was
	// deleted (a broadcast we missed); api-3 is newer than the state.
	d.MergeRemoteState(stateMsg(t, "y", 8, wireEntry{ID: "api-2", Version: 7, Reg: owned("y", "api-2", structs.HealthCritical)}), false)
	if got := ids(c.All("api")); len(got) != 2 || got["api-2"] != structs.HealthCritical || got["api-3"] != structs.HealthPassing {
		t.Fatalf("after the full state: %v", got)
	}
	// A late broadcast older than the state does not bring api-1 back.
	d.NotifyMsg(updateMsg(t, "y", 5, "api-1", owned("y", "api-1", structs.HealthPassing)))
	if got := ids(c.All("api")); len(got) != 2 {
		t.Fatalf("a message older than the full state was applied: %v", got)
	}

	// This node's own state carries its instances.
	if err := c.Register(instance("mine", "web", 80)); err != nil {
		t.Fatal(err)
	}
	other, _ := newCatalog(t, "other")
	other.Delegate().MergeRemoteState(d.LocalState(false), true)
	if got := other.Healthy("web", "", ""); len(got) != 1 || got[0].NodeID != "self" {
		t.Fatalf("state exchange: %+v", got)
	}
	// ...and relays what it heard of y, which other takes only while it
	// knows y to be alive.
	if got := other.Healthy("api", "", ""); len(got) != 0 {
		t.Fatalf("took hearsay about a member it does not know: %+v", got)
	}
	other.EventDelegate().NotifyJoin(&memberlist.Node{Name: "y"})
	other.Delegate().MergeRemoteState(d.LocalState(false), false)
	if got := ids(other.All("api")); len(got) != 2 || got["api-2"] != structs.HealthCritical {
		t.Fatalf("relayed state: %v", got)
	}
	d.NotifyMsg(updateMsg(t, "y", 10, "api-3", nil))
	other.Delegate().MergeRemoteState(d.LocalState(false), false)
	if got := ids(other.All("api")); len(got) != 1 {
		t.Fatalf("relayed deletion: %v", got)
	}
}

func TestWatchFiresOnChange(t *testing.T) {
	c, _ := newCatalog(t, "self")
	w := c.Watch()
	if err := c.Register(instance("api-1", "api", 80)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w:
	default:
		t.Fatal("watch did not fire on register")
	}
	w = c.Watch()
	if err := c.SetHealth("api-1", true, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w:
		t.Fatal("watch fired although nothing changed")
	default:
	}
	if err := c.SetHealth("missing", true, nil); err == nil {
		t.Fatal("SetHealth of an unknown instance succeeded")
	}
	if err := c.Register(&structs.ServiceRegistration{ID: "x"}); err == nil {
		t.Fatal("Register without a service name succeeded")
	}
}

// TestSmallPoolsSendEachUpdateOften: in a pool of four, each update is
// handed to memberlist twice RetransmitMult times, as in a pool of 10 to
// 99 (see minRetransmitPool and DefaultRetransmitMult).
func TestSmallPoolsSendEachUpdateOften(t *testing.T) {
	cat, err := New(Config{NodeID: "node-a", MemberName: "a", Datacenter: "dc1", Clock: clocktest.NewFake()})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	for _, m := range []string{"a", "b", "c", "d"} {
		cat.EventDelegate().NotifyJoin(&memberlist.Node{Name: m})
	}
	for i := range 3 {
		if err := cat.Register(instance(fmt.Sprintf("i%d", i), "web", 8080+i)); err != nil {
			t.Fatal(err)
		}
	}
	sent := map[string]int{}
	for range 100 {
		msgs := cat.Delegate().GetBroadcasts(2, 1400)
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			var u update
			if err := json.Unmarshal(m[1:], &u); err != nil {
				t.Fatal(err)
			}
			sent[u.Entry.ID]++
		}
	}
	for i := range 3 {
		if id := fmt.Sprintf("i%d", i); sent[id] != 2*DefaultRetransmitMult {
			t.Errorf("update of %s handed out %d times, want 16: %v", id, sent[id], sent)
		}
	}
}
