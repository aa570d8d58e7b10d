package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/client/clock/clocktest"
	"github.com/drover-project/drover/structs"
)

// TestBroadcastsReachEveryMember is the catalog's promise that a change
// reaches every member by broadcast alone: 32 catalogs on real memberlists
// on 127.0.0.1, with the periodic full-state exchange turned off (only the
// one at join remains), make bursts of changes (registrations, health
// flips, deregistrations, all at once on every node), and every member
// must end up with every owner's last word. A member that a change missed
// would keep the stale instance for good, so the test's deadline is only a
// bound on a hang, not a speed target.
//
// The epidemic is random, so one run proves little: this is the test to
// run with -count 20 after touching how updates are queued or relayed
// (-v adds the copies of each update every member received).
// CATALOG_TEST_RETRANSMIT_MULT=4 runs it with memberlist's own
// retransmit setting, the catalog's before: some member missed some
// change in 5 of 7 runs.
func TestBroadcastsReachEveryMember(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 32 memberlists")
	}
	const (
		members  = 32
		perNode  = 3
		rounds   = 3
		deadline = 90 * time.Second
	)
	retransmitMult, _ := strconv.Atoi(os.Getenv("CATALOG_TEST_RETRANSMIT_MULT"))
	logs := &memberlistLog{}
	copies := &copyCounter{n: map[string]int{}}
	clk := clocktest.NewFake()
	nodes := make([]*node, members)
	for i := range members {
		name := fmt.Sprintf("m%02d", i)
		cat, err := New(Config{NodeID: "node-" + name, MemberName: name, Datacenter: "dc1", Clock: clk, RetransmitMult: retransmitMult})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cat.Close)
		conf := memberlist.DefaultLANConfig()
		conf.Name = name
		conf.BindAddr = "127.0.0.1"
		conf.BindPort = 0
		conf.LogOutput = logs
		// No periodic full-state exchange: what a broadcast misses stays
		// missed, so the test sees it.
		conf.PushPullInterval = 0
		conf.Delegate = copies.wrap(name, cat.Delegate())
		conf.Events = cat.EventDelegate()
		ml, err := memberlist.Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ml.Shutdown() })
		// Join every earlier member: memberlist's own news of a member
		// that joined is a broadcast too, and without the periodic
		// exchange a member that missed it would never learn of it.
		var earlier []string
		for _, e := range nodes[:i] {
			earlier = append(earlier, fmt.Sprintf("127.0.0.1:%d", e.ml.LocalNode().Port))
		}
		if len(earlier) > 0 {
			if _, err := ml.Join(earlier); err != nil {
				t.Fatal(err)
			}
		}
		nodes[i] = &node{cat: cat, ml: ml}
	}
	waitFor(t, deadline, "every member sees the whole pool", func() string {
		for _, n := range nodes {
			if got := n.ml.NumMembers(); got != members {
				return fmt.Sprintf("%s sees %d members", n.ml.LocalNode().Name, got)
			}
		}
		return ""
	})

	// want is every owner's last word: instance ID → health, "" when
	// deregistered.
	want := map[string]string{}
	for r := range rounds {
		for i, n := range nodes {
			for k := range perNode {
				id := fmt.Sprintf("n%02d-%d", i, k)
				switch {
				case r == 0:
					if err := n.cat.Register(instance(id, "svc", 8000+k)); err != nil {
						t.Fatal(err)
					}
					want[id] = structs.HealthPassing
				case r == rounds-1 && k == 0:
					n.cat.Deregister(id)
					want[id] = ""
				default:
					healthy := (r+k+i)%2 == 0
					if err := n.cat.SetHealth(id, healthy, nil); err != nil {
						t.Fatal(err)
					}
					want[id] = map[bool]string{true: structs.HealthPassing, false: structs.HealthCritical}[healthy]
				}
			}
		}
	}
	for id, h := range want {
		if h == "" {
			delete(want, id)
		}
	}

	start := time.Now()
	waitFor(t, deadline, "every member holds every owner's last word", func() string {
		var behind []string
		for _, n := range nodes {
			got := ids(n.cat.All("svc"))
			if !maps.Equal(got, want) {
				behind = append(behind, fmt.Sprintf("%s: %s", n.ml.LocalNode().Name, diff(got, want)))
			}
		}
		if len(behind) == 0 {
			return ""
		}
		return fmt.Sprintf("%d members behind (%s): %s\nmemberlist's drops and errors:\n%s",
			len(behind), copies.summary(), strings.Join(behind, "; "), logs.String())
	})
	converged := time.Since(start)
	if !testing.Verbose() {
		return
	}
	// For the figures: let every queue drain, so that the copies counted
	// are all there are.
	waitFor(t, deadline, "every member has sent all it queued", func() string {
		for _, n := range nodes {
			if q := n.cat.queue.NumQueued(); q > 0 {
				return fmt.Sprintf("%s has %d updates queued", n.ml.LocalNode().Name, q)
			}
		}
		return ""
	})
	t.Logf("converged in %s, queues drained in %s; %s", converged.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond), copies.summary())
}

// copyCounter counts the copies of each update every member receives, to
// compare with the model in DefaultRetransmitMult's comment.
type copyCounter struct {
	mu sync.Mutex
	n  map[string]int // member + " " + origin/instance/version → copies
}

func (cc *copyCounter) wrap(member string, d memberlist.Delegate) memberlist.Delegate {
	return countingDelegate{Delegate: d, member: member, cc: cc}
}

type countingDelegate struct {
	memberlist.Delegate
	member string
	cc     *copyCounter
}

func (d countingDelegate) NotifyMsg(msg []byte) {
	var u update
	if len(msg) > 0 && msg[0] == MsgUpdate && json.Unmarshal(msg[1:], &u) == nil {
		d.cc.mu.Lock()
		d.cc.n[fmt.Sprintf("%s %s/%s/%d", d.member, u.Origin, u.Entry.ID, u.Entry.Version)]++
		d.cc.mu.Unlock()
	}
	d.Delegate.NotifyMsg(msg)
}

// summary gives the mean copies of an update a member received, over the
// updates that reached it, and how many received updates came only once.
func (cc *copyCounter) summary() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	total, once := 0, 0
	for _, c := range cc.n {
		total += c
		if c == 1 {
			once++
		}
	}
	return fmt.Sprintf("%d (member, update) pairs received, %.1f copies each on average, %d only once",
		len(cc.n), float64(total)/float64(max(len(cc.n), 1)), once)
}

// waitFor polls cond until it returns "" and fails with its last answer
// after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() string) {
	t.Helper()
	end := time.Now().Add(limit)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("not after %s: %s: %s", limit, what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// diff lists how got differs from want, instance by instance.
func diff(got, want map[string]string) string {
	var out []string
	for id, h := range want {
		if got[id] != h {
			out = append(out, fmt.Sprintf("%s=%q want %q", id, got[id], h))
		}
	}
	for id, h := range got {
		if _, ok := want[id]; !ok {
			out = append(out, fmt.Sprintf("%s=%q want gone", id, h))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// memberlistLog keeps what memberlist logs of dropped messages (a full
// handler queue: a loss the catalog cannot help) and errors.
type memberlistLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *memberlistLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("dropping")) || bytes.Contains(p, []byte("[ERR]")) {
		l.mu.Lock()
		l.lines = append(l.lines, string(p))
		l.mu.Unlock()
	}
	return len(p), nil
}

func (l *memberlistLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}
