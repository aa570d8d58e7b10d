package catalog

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/structs"
)

// scanHealthy is Healthy as a scan of every instance: the index must
// answer the same.
func scanHealthy(c *Catalog, name, tag, dc string) []string {
	var out []string
	for _, o := range c.owners {
		for _, e := range o.entries {
			r := e.reg
			if r != nil && o.leftAt.IsZero() && r.ServiceName == name && r.Healthy() &&
				(tag == "" || r.HasTag(tag)) && (dc == "" || r.Datacenter == dc) {
				out = append(out, o.id+"/"+r.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkIndex compares byService with the owners' entries.
func checkIndex(t *testing.T, c *Catalog, step string) {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	want := map[string]map[instanceKey]bool{}
	for id, o := range c.owners {
		if o.id != id {
			t.Fatalf("%s: owner %q records its ID as %q", step, id, o.id)
		}
		for iid, e := range o.entries {
			if e.reg == nil {
				continue
			}
			if want[e.reg.ServiceName] == nil {
				want[e.reg.ServiceName] = map[instanceKey]bool{}
			}
			want[e.reg.ServiceName][instanceKey{id, iid}] = true
		}
	}
	got := map[string]map[instanceKey]bool{}
	for name, set := range c.byService {
		if len(set) == 0 {
			t.Fatalf("%s: service %q is indexed without instances", step, name)
		}
		got[name] = map[instanceKey]bool{}
		for k, in := range set {
			got[name][k] = true
			o := c.owners[k.owner]
			if o == nil {
				t.Fatalf("%s: index entry %v of %q belongs to a forgotten node", step, k, name)
			}
			if e := o.entries[k.id]; e == nil || e.reg != in.reg || o != in.o {
				t.Fatalf("%s: index entry %v of %q is stale", step, k, name)
			}
		}
	}
	if !maps.EqualFunc(got, want, func(a, b map[instanceKey]bool) bool { return maps.Equal(a, b) }) {
		t.Fatalf("%s: index %v, want %v", step, got, want)
	}
}

func regKeys(c *Catalog, regs []structs.ServiceRegistration) []string {
	out := make([]string, 0, len(regs))
	for _, r := range regs {
		out = append(out, r.NodeID+"/"+r.ID)
	}
	sort.Strings(out)
	return out
}

// TestIndexFollowsEveryChange drives a catalog through a long, seeded mix
// of local changes, gossip updates, full-state merges, members leaving
// and joining, and expiry, and checks after every step that the
// by-service index matches the instances and that lookups answer what a
// scan of every instance would.
func TestIndexFollowsEveryChange(t *testing.T) {
	c, clk := newCatalog(t, "self")
	d, ev := c.Delegate(), c.EventDelegate()
	rng := rand.New(rand.NewPCG(1, 2))
	services := []string{"api", "db", "web"}
	remotes := []string{"y", "z"}
	versions := map[string]uint64{"y": 1, "z": 1}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	remoteReg := func(node, id string) *structs.ServiceRegistration {
		r := instance(id, pick(services), 80, pick([]string{"v1", "v2"}))
		r.NodeID, r.Datacenter = node, pick([]string{"dc1", "dc2"})
		r.Health = pick([]string{structs.HealthPassing, structs.HealthCritical})
		return r
	}
	for _, m := range append([]string{"self"}, remotes...) {
		ev.NotifyJoin(&memberlist.Node{Name: m})
	}
	const steps = 3000
	live := 0 // instances summed over the steps, to show the mix kept some
	for i := range steps {
		var step string
		switch op := rng.IntN(9); op {
		case 0:
			id := fmt.Sprintf("self-%d", rng.IntN(6))
			r := instance(id, pick(services), 80, pick([]string{"v1", "v2"}))
			step = "register " + id + " as " + r.ServiceName
			if err := c.Register(r); err != nil {
				t.Fatal(err)
			}
		case 1:
			id := fmt.Sprintf("self-%d", rng.IntN(6))
			step = "deregister " + id
			c.Deregister(id)
		case 2:
			id := fmt.Sprintf("self-%d", rng.IntN(6))
			step = "set health of " + id
			_ = c.SetHealth(id, rng.IntN(2) == 0, nil) // unknown IDs fail, which is fine
		case 3, 4:
			node := pick(remotes)
			id := fmt.Sprintf("%s-%d", node, rng.IntN(6))
			versions[node] += uint64(rng.IntN(3)) // sometimes a repeat, which is ignored
			var r *structs.ServiceRegistration
			if rng.IntN(4) > 0 {
				r = remoteReg(node, id)
			}
			step = fmt.Sprintf("update %s v%d (deleted %v)", id, versions[node], r == nil)
			d.NotifyMsg(updateMsg(t, node, versions[node], id, r))
		case 5:
			node := pick(remotes)
			versions[node]++
			var entries []wireEntry
			for j := range 6 {
				if rng.IntN(2) == 0 {
					id := fmt.Sprintf("%s-%d", node, j)
					entries = append(entries, wireEntry{ID: id, Version: versions[node], Reg: remoteReg(node, id)})
				}
			}
			step = fmt.Sprintf("full state of %s at v%d with %d instances", node, versions[node], len(entries))
			d.MergeRemoteState(stateMsg(t, node, versions[node], entries...), false)
		case 6:
			node := pick(remotes)
			step = node + " leaves"
			ev.NotifyLeave(&memberlist.Node{Name: node})
		case 7:
			node := pick(remotes)
			step = node + " joins"
			ev.NotifyJoin(&memberlist.Node{Name: node})
		case 8:
			adv := time.Duration(rng.IntN(40)) * time.Second
			clk.Advance(adv)
			step = fmt.Sprintf("reap after %s", adv)
			c.reap(clk.Now())
		}
		step = fmt.Sprintf("step %d (%s)", i, step)
		checkIndex(t, c, step)
		for _, name := range append(services, "none") {
			for _, tag := range []string{"", "v1"} {
				for _, dc := range []string{"", "dc2"} {
					c.mu.RLock()
					want := scanHealthy(c, name, tag, dc)
					c.mu.RUnlock()
					if got := regKeys(c, c.Healthy(name, tag, dc)); !slices.Equal(got, want) {
						t.Fatalf("%s: Healthy(%q, %q, %q) = %v, a scan finds %v", step, name, tag, dc, got, want)
					}
				}
			}
			var all []string
			for _, r := range c.All(name) {
				all = append(all, r.ID)
			}
			if !slices.IsSorted(all) {
				t.Fatalf("%s: All(%q) is not sorted: %v", step, name, all)
			}
		}
		c.mu.RLock()
		names := map[string]bool{}
		for _, o := range c.owners {
			for _, e := range o.entries {
				if e.reg != nil {
					names[e.reg.ServiceName] = true
					live++
				}
			}
		}
		c.mu.RUnlock()
		want := slices.Sorted(maps.Keys(names))
		if got := c.Services(); !slices.Equal(got, want) {
			t.Fatalf("%s: Services() = %v, want %v", step, got, want)
		}
	}
	if live < steps {
		t.Fatalf("the steps held only %d instances in all: the mix tests too little", live)
	}
	t.Logf("%d steps, %.1f instances on average", steps, float64(live)/steps)
}
