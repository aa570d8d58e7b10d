package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
)

// The service the discovery cluster test runs: three instances of the demo
// app on client-1 and client-2, spread over both, behind an http ingress.
// The group's shutdown_delay keeps a stopped instance serving for a while
// after it left the catalog, so the test can see the balancer stop sending
// it traffic while it still could answer.
func discoWebJob(ingressPort int) string {
	return webJob{Name: "e2e-dc-web", Count: 3, Job: `
constraint {
  attribute = "${node.unique.name}"
  operator  = "regexp"
  value     = "^client-[12]$"
}
`, GroupExtra: `
shutdown_delay = "4s"
spread {
  attribute = "${node.unique.name}"
}
` + ingressService("web", ingressPort, ""), TaskExtra: healthFileEnv}.HCL()
}

// discoOtherJob is a second service on client-3, whose task looks the
// first one up by name.
var discoOtherJob = webJob{Name: "e2e-dc-other", Group: "other", Job: `
constraint {
  attribute = "${node.unique.name}"
  value     = "client-3"
}
`, GroupExtra: `
service {
  name     = "other"
  port     = "http"
  provider = "nomad"
}
`}.HCL()

// discoIngressPort is the web service's ingress port: every node listens
// on it on its own address, so it cannot clash between them.
const discoIngressPort = 9090

// gossipTarget is the target for a change to reach every node.
const gossipTarget = 2 * time.Second

// TestDiscoveryAcrossClients decides issue 8 on a real cluster: one server
// (that also runs a client, so its catalog rides on the server's gossip
// pool) and three clients, each a process in a network namespace of its
// own, the web service's three instances on client-1 and client-2.
//   - DNS on client-3 answers the three instances (SRV) at their nodes'
//     addresses (A); so does the server's.
//   - Stopping an instance takes it out of DNS and the balancer on every
//     node within gossipTarget of its owner dropping it.
//   - 300 requests through the ingress port of every node spread fairly
//     over the instances, and every request of a stream succeeds while an
//     instance is stopped in the middle of it.
//   - An instance whose check fails leaves DNS and the balancer, and
//     returns when it passes again.
//   - A task resolves another service by name from inside its container,
//     through its client's DNS server.
func TestDiscoveryAcrossClients(t *testing.T) {
	removeContainersAtEnd(t, "e2e-dc-web", "e2e-dc-other")
	c := newCluster(t, cluster.Options{Servers: 1, Clients: 3, PublishPorts: true, ServerArgs: []string{"-client"}})
	leader := c.WaitLeader(60 * time.Second)
	cl := leader.API()
	clients := c.Clients()
	third := clients[2]
	nodes := c.Agents() // every node runs a client: the server too

	agentOf := map[string]*cluster.Agent{} // node ID → agent
	waitFor(t, 60*time.Second, "four ready nodes", func() (bool, error) {
		list, _, err := cl.Nodes().List(nil)
		if err != nil {
			return false, err
		}
		for _, n := range list {
			for _, a := range nodes {
				if n.Name == a.Name {
					agentOf[n.ID] = a
				}
			}
		}
		return countReady(list) == 4 && len(agentOf) == 4, fmt.Errorf("%d ready of %d nodes", countReady(list), len(list))
	})

	registerSrc(t, cl, discoWebJob(discoIngressPort))
	stubs := waitLiveAllocs(t, cl, "e2e-dc-web", 3)
	if byNode := allocsByNode(stubs); len(byNode) != 2 {
		t.Fatalf("count 3 placed on %d node(s), want client-1 and client-2", len(byNode))
	}
	want := map[string]string{} // endpoint "ip:port" → alloc ID
	for _, s := range stubs {
		want[instanceEndpoint(t, cl, s.ID, agentOf)] = s.ID
	}
	t.Logf("instances: %v", want)
	// Each instance reaches every node's DNS soon after its owner's
	// (once its check passes).
	appear := func(what string) {
		t.Helper()
		for ep, id := range want {
			waitEverywhere(t, nodes, agentOf[allocNode(t, cl, id)], ep, true, what+" "+id)
		}
	}
	appear("new instance")

	// DNS on the third client, and on the server's own client, answers
	// the three instances.
	for _, a := range []*cluster.Agent{third, c.Servers()[0]} {
		waitFor(t, 60*time.Second, "the three instances in the DNS of "+a.Name, func() (bool, error) {
			got, err := srvEndpoints(a, "web.service.drover.")
			if err != nil {
				return false, err
			}
			return maps.Equal(got, setOf(slices.Collect(maps.Keys(want))...)), fmt.Errorf("SRV %v, want %v", sortedKeys(got), slices.Sorted(maps.Keys(want)))
		})
		addrs, err := aAddrs(a, "web.service.drover.")
		if wantAddrs := hostsOf(want); err != nil || !maps.Equal(addrs, wantAddrs) {
			t.Errorf("A records of web.service.drover on %s: %v (%v), want %v", a.Name, sortedKeys(addrs), err, sortedKeys(wantAddrs))
		}
		if got, err := srvEndpoints(a, "nosuch.service.drover."); err != nil || len(got) != 0 {
			t.Errorf("an unknown service on %s: %v, %v", a.Name, got, err)
		}
	}

	// 300 requests through the ingress of every node, round robin over the
	// nodes: each instance gets a fair share.
	hc := &http.Client{Timeout: 5 * time.Second}
	share := map[string]int{}
	for i := range 300 {
		alloc, err := askIngress(hc, nodes[i%len(nodes)])
		if err != nil {
			t.Fatalf("request %d through %s: %v", i, nodes[i%len(nodes)].Name, err)
		}
		share[alloc]++
	}
	t.Logf("300 requests: %v", share)
	for _, id := range want {
		if n := share[id]; n < 70 || n > 130 {
			t.Errorf("instance %s got %d of 300 requests; want a fair share (70 to 130): %v", id, n, share)
		}
	}
	if len(share) != 3 {
		t.Errorf("requests reached %d instances: %v", len(share), share)
	}

	// Stopping an instance takes it out of DNS and the balancer everywhere
	// within the target of its owner dropping it, while it still serves
	// (shutdown_delay).
	victimEP, victim := firstOf(want)
	owner := agentOf[allocNode(t, cl, victim)]
	watch := watchRemoval(t, append([]*cluster.Agent{owner}, others(nodes, owner)...), victimEP)
	stopAt := time.Now()
	if _, err := cl.Allocations().Stop(victim, false); err != nil {
		t.Fatalf("stop %s: %v", victim, err)
	}
	gone := watch.wait(t, 60*time.Second)
	spread := gone.spread(owner)
	t.Logf("stopped instance %s: out of its owner's DNS %s after the stop call, out of every node's within %s more",
		victim, gone[owner].Sub(stopAt).Round(time.Millisecond), spread.Round(time.Millisecond))
	if spread > gossipTarget {
		t.Errorf("the stop took %s to reach every node after its owner; target %s", spread, gossipTarget)
	}
	for i := range 40 {
		alloc, err := askIngress(hc, nodes[i%len(nodes)])
		if err != nil {
			t.Fatalf("request %d after the stop: %v", i, err)
		}
		if alloc == victim {
			t.Fatalf("the balancer of %s sent a request to the stopped instance %s", nodes[i%len(nodes)].Name, victim)
		}
	}
	stubs = waitLiveAllocs(t, cl, "e2e-dc-web", 3) // its replacement
	want = map[string]string{}
	for _, s := range stubs {
		want[instanceEndpoint(t, cl, s.ID, agentOf)] = s.ID
	}
	appear("after the stop:")
	waitFor(t, 60*time.Second, "the replacement in the DNS of "+third.Name, func() (bool, error) {
		got, err := srvEndpoints(third, "web.service.drover.")
		return err == nil && maps.Equal(got, setOf(slices.Collect(maps.Keys(want))...)), fmt.Errorf("SRV %v (%v), want %v", sortedKeys(got), err, slices.Sorted(maps.Keys(want)))
	})

	// A stream of requests through every node's ingress, an instance
	// stopped in its middle, without shutdown_delay: every request
	// succeeds.
	victimEP, victim = firstOf(want)
	streamStop(t, hc, cl, nodes, victim)
	stubs = waitLiveAllocs(t, cl, "e2e-dc-web", 3)
	want = map[string]string{}
	for _, s := range stubs {
		want[instanceEndpoint(t, cl, s.ID, agentOf)] = s.ID
	}
	appear("after the stream:")
	waitFor(t, 60*time.Second, "three instances in the DNS of "+third.Name+" again", func() (bool, error) {
		got, err := srvEndpoints(third, "web.service.drover.")
		return err == nil && maps.Equal(got, setOf(slices.Collect(maps.Keys(want))...)), fmt.Errorf("SRV %v (%v), want %v", sortedKeys(got), err, slices.Sorted(maps.Keys(want)))
	})

	// An instance whose check fails leaves DNS and the balancer everywhere,
	// and comes back when it passes again.
	sickEP, sick := firstOf(want)
	sickOwner := agentOf[allocNode(t, cl, sick)]
	setHealth := func(word string) {
		t.Helper()
		// Writing the file is idempotent: an exec that fails (seen once
		// in many runs: exit 1, no output) is logged and tried again.
		for try := 1; ; try++ {
			out, code := droverAt(t, sickOwner.HTTP, "alloc", "exec", "-task", "app", sick, "/app", "write", "/local/health", word)
			if code == 0 {
				return
			}
			if try == 3 {
				t.Fatalf("alloc exec write %s exited %d (try %d):\n%s", word, code, try, out)
			}
			t.Logf("alloc exec write %s exited %d (try %d), trying again:\n%s", word, code, try, out)
		}
	}
	watch = watchRemoval(t, append([]*cluster.Agent{sickOwner}, others(nodes, sickOwner)...), sickEP)
	failAt := time.Now()
	setHealth("fail")
	gone = watch.wait(t, 30*time.Second)
	spread = gone.spread(sickOwner)
	t.Logf("failing instance %s: out of its owner's DNS %s after its health file said fail, out of every node's within %s more",
		sick, gone[sickOwner].Sub(failAt).Round(time.Millisecond), spread.Round(time.Millisecond))
	if spread > gossipTarget {
		t.Errorf("the failing check took %s to reach every node after its owner; target %s", spread, gossipTarget)
	}
	for i := range 40 {
		alloc, err := askIngress(hc, nodes[i%len(nodes)])
		if err != nil {
			t.Fatalf("request %d while %s fails its check: %v", i, sick, err)
		}
		if alloc == sick {
			t.Fatalf("the balancer of %s sent a request to %s, whose check fails", nodes[i%len(nodes)].Name, sick)
		}
	}
	setHealth("ok")
	waitEverywhere(t, nodes, sickOwner, sickEP, true, "instance passing again "+sick)
	for _, a := range nodes {
		waitFor(t, 30*time.Second, sick+" back in the DNS and the balancer of "+a.Name, func() (bool, error) {
			got, err := srvEndpoints(a, "web.service.drover.")
			if err != nil || !got[sickEP] {
				return false, fmt.Errorf("SRV %v (%v)", sortedKeys(got), err)
			}
			alloc, err := askIngress(hc, a)
			return alloc == sick, fmt.Errorf("ingress answered %q (%v)", alloc, err)
		})
	}

	// A task on client-3 resolves the web service by name from inside its
	// container, and a web task resolves it back: containers ask their
	// client's DNS server.
	registerSrc(t, cl, discoOtherJob)
	other := waitLiveAllocs(t, cl, "e2e-dc-other", 1)[0]
	if agentOf[other.NodeID] != third {
		t.Fatalf("the other service runs on %s, want %s", agentOf[other.NodeID].Name, third.Name)
	}
	otherEP := instanceEndpoint(t, cl, other.ID, agentOf)
	lookup := func(at *cluster.Agent, alloc, name string, wantAddrs map[string]bool) {
		t.Helper()
		var got []string
		waitFor(t, 30*time.Second, "a lookup of "+name+" inside a container on "+at.Name, func() (bool, error) {
			out, code := droverAt(t, at.HTTP, "alloc", "exec", "-task", "app", alloc, "/app", "lookup", name)
			got = strings.Fields(out)
			return code == 0 && maps.Equal(setOf(got...), wantAddrs), fmt.Errorf("exit %d, %q, want %v", code, out, sortedKeys(wantAddrs))
		})
	}
	if out, code := droverAt(t, third.HTTP, "alloc", "exec", "-task", "app", other.ID, "/app", "cat", "/etc/resolv.conf"); code != 0 ||
		!strings.Contains(out, "nameserver "+third.IP+"\n") {
		t.Errorf("resolv.conf of a container on %s (exit %d) does not name the client's address %s:\n%s", third.Name, code, third.IP, out)
	}
	lookup(third, other.ID, "web.service.drover", hostsOf(want))
	lookup(sickOwner, sick, "other.service.drover", hostsOf(map[string]string{otherEP: other.ID}))

	for _, job := range []string{"e2e-dc-web", "e2e-dc-other"} {
		if _, err := cl.Jobs().Deregister(job, true); err != nil {
			t.Errorf("stop %s: %v", job, err)
		}
	}
	waitFor(t, 60*time.Second, "the services to leave the DNS of "+third.Name, func() (bool, error) {
		web, err1 := srvEndpoints(third, "web.service.drover.")
		oth, err2 := srvEndpoints(third, "other.service.drover.")
		return err1 == nil && err2 == nil && len(web)+len(oth) == 0, fmt.Errorf("web %v, other %v (%v, %v)", web, oth, err1, err2)
	})
}

// streamStop sends a paced stream of requests through every node's
// ingress, stops the victim instance (without its shutdown_delay) after
// the first 100, and goes on until at least 300 requests were answered and
// 100 of them after the victim's allocation stopped on its client. Every
// request must succeed.
func streamStop(t *testing.T, hc *http.Client, cl *api.Client, nodes []*cluster.Agent, victim string) {
	t.Helper()
	const (
		workers  = 4
		pace     = 5 * time.Millisecond // between requests, all workers together
		maxTotal = 20000
		maxTime  = 90 * time.Second
	)
	var (
		sent      atomic.Int64
		mu        sync.Mutex
		failures  []string
		answered  = map[string]int{}
		stoppedAt atomic.Int64 // requests sent when the victim was seen stopped; 0 before
		stopErr   = make(chan error, 1)
	)
	deadline := time.Now().Add(maxTime)
	done := make(chan struct{})
	var watchers sync.WaitGroup
	watchers.Go(func() {
		// Stop the victim after 100 requests, then wait for its
		// allocation to stop running on its client.
		for sent.Load() < 100 && time.Now().Before(deadline) {
			select {
			case <-done:
				return
			case <-time.After(pace):
			}
		}
		_, err := cl.Allocations().Stop(victim, true)
		stopErr <- err
		if err != nil {
			return
		}
		for time.Now().Before(deadline) {
			a, _, err := cl.Allocations().Info(victim, nil)
			if err == nil && a.ClientTerminal() {
				stoppedAt.Store(sent.Load())
				return
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	tick := time.NewTicker(pace)
	defer tick.Stop()
	var workersWG sync.WaitGroup
	jobs := make(chan int)
	for range workers {
		workersWG.Go(func() {
			for i := range jobs {
				node := nodes[i%len(nodes)]
				alloc, err := askIngress(hc, node)
				mu.Lock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("request %d through %s: %v", i, node.Name, err))
				} else {
					answered[alloc]++
				}
				mu.Unlock()
			}
		})
	}
	for i := 0; ; i++ {
		n := sent.Load()
		s := stoppedAt.Load()
		if (n >= 300 && s > 0 && n >= s+100) || n >= maxTotal || time.Now().After(deadline) {
			break
		}
		<-tick.C
		jobs <- i
		sent.Add(1)
	}
	close(jobs)
	workersWG.Wait()
	close(done)
	watchers.Wait()
	select {
	case err := <-stopErr:
		if err != nil {
			t.Fatalf("stop %s: %v", victim, err)
		}
	default:
		t.Fatalf("the stream ended before the stop of %s was sent", victim)
	}
	if stoppedAt.Load() == 0 {
		t.Fatalf("%s did not stop on its client within %s", victim, maxTime)
	}
	t.Logf("stream: %d requests, %d of them after %s stopped; answered by %v; %d failed", sent.Load(), sent.Load()-stoppedAt.Load(), victim, answered, len(failures))
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed while an instance stopped, e.g.:\n%s", len(failures), sent.Load(), strings.Join(failures[:min(10, len(failures))], "\n"))
	}
}

// dnsChange records when each agent's DNS answer about an endpoint changed.
type dnsChange map[*cluster.Agent]time.Time

// spread is how long after the first agent (the owner) the last one
// changed.
func (r dnsChange) spread(first *cluster.Agent) time.Duration {
	var last time.Time
	for _, at := range r {
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(r[first])
}

// dnsWatch polls the DNS of several agents for one endpoint of the web
// service until each answers it present (or absent).
type dnsWatch struct {
	ep       string
	present  bool
	agents   []*cluster.Agent
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	mu       sync.Mutex
	seen     dnsChange
	last     map[*cluster.Agent]string
}

// watchRemoval waits until every agent answers endpoint ep, then polls
// their DNS every 20 ms until it is gone from each.
func watchRemoval(t *testing.T, agents []*cluster.Agent, ep string) *dnsWatch {
	t.Helper()
	for _, a := range agents {
		waitFor(t, 10*time.Second, ep+" in the DNS of "+a.Name, func() (bool, error) {
			got, err := srvEndpoints(a, "web.service.drover.")
			return got[ep], fmt.Errorf("SRV %v (%v)", sortedKeys(got), err)
		})
	}
	return watchDNS(t, agents, ep, false)
}

// watchDNS polls the agents' DNS every 20 ms until each answers endpoint
// ep present (or absent).
func watchDNS(t *testing.T, agents []*cluster.Agent, ep string, present bool) *dnsWatch {
	w := &dnsWatch{ep: ep, present: present, agents: agents, stop: make(chan struct{}), seen: dnsChange{}, last: map[*cluster.Agent]string{}}
	// A test that fails before wait must not leave the pollers running.
	t.Cleanup(func() { w.stopOnce.Do(func() { close(w.stop) }); w.wg.Wait() })
	for _, a := range agents {
		w.wg.Go(func() {
			for {
				got, err := srvEndpoints(a, "web.service.drover.")
				w.mu.Lock()
				w.last[a] = fmt.Sprintf("%v (%v)", sortedKeys(got), err)
				if err == nil && got[ep] == present {
					w.seen[a] = time.Now()
					w.mu.Unlock()
					return
				}
				w.mu.Unlock()
				select {
				case <-w.stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
	}
	return w
}

// wait returns when every agent's answer changed, or fails the test after
// timeout.
func (w *dnsWatch) wait(t *testing.T, timeout time.Duration) dnsChange {
	t.Helper()
	finished := make(chan struct{})
	go func() { w.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(timeout):
		w.stopOnce.Do(func() { close(w.stop) })
		<-finished
		w.mu.Lock()
		defer w.mu.Unlock()
		t.Fatalf("%s: %d of %d agents answered it present=%v within %s; last answers %v", w.ep, len(w.seen), len(w.agents), w.present, timeout, w.last)
	}
	return w.seen
}

// waitEverywhere waits until every node answers ep present (or absent),
// and fails the test when the last did so more than the target after the
// owner.
func waitEverywhere(t *testing.T, nodes []*cluster.Agent, owner *cluster.Agent, ep string, present bool, what string) {
	t.Helper()
	seen := watchDNS(t, append([]*cluster.Agent{owner}, others(nodes, owner)...), ep, present).wait(t, 60*time.Second)
	spread := seen.spread(owner)
	t.Logf("%s (%s): every node within %s of its owner", what, ep, spread.Round(time.Millisecond))
	if spread > gossipTarget {
		t.Errorf("%s (%s): took %s to reach every node after its owner; target %s", what, ep, spread, gossipTarget)
	}
}

// instanceEndpoint is "ip:port" of an allocation's http port: its node's
// publish address and the port it was given.
func instanceEndpoint(t *testing.T, cl *api.Client, allocID string, agentOf map[string]*cluster.Agent) string {
	t.Helper()
	alloc, _, err := cl.Allocations().Info(allocID, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip, port := hostPort(alloc, "http")
	a := agentOf[alloc.NodeID]
	if a == nil || ip != a.PublishIP {
		t.Fatalf("allocation %s: port http on %s:%d, want its node's publish address (%v)", allocID, ip, port, a)
	}
	if port < a.MinDynamicPort || port > a.MaxDynamicPort {
		t.Errorf("allocation %s: port %d outside %s's range %d-%d", allocID, port, a.Name, a.MinDynamicPort, a.MaxDynamicPort)
	}
	return net.JoinHostPort(ip, fmt.Sprint(port))
}

func allocNode(t *testing.T, cl *api.Client, allocID string) string {
	t.Helper()
	alloc, _, err := cl.Allocations().Info(allocID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return alloc.NodeID
}

// askIngress sends one request to the web ingress of a node and returns
// the allocation that answered.
func askIngress(hc *http.Client, a *cluster.Agent) (string, error) {
	resp, err := hc.Get(fmt.Sprintf("http://%s/", net.JoinHostPort(a.IP, fmt.Sprint(discoIngressPort))))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var ans demoAnswer
	if err := json.Unmarshal(body, &ans); err != nil || ans.Alloc == "" {
		return "", fmt.Errorf("answer %q: %v", body, err)
	}
	return ans.Alloc, nil
}

// nsExchange asks the DNS server an agent runs on its loopback (port
// 4749), from inside the agent's network namespace.
func nsExchange(a *cluster.Agent, name string, qtype uint16) (*dns.Msg, error) {
	conn, err := a.Dial("udp", "127.0.0.1:4749")
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	dc := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	in, _, err := dc.ExchangeWithConnContext(context.Background(), new(dns.Msg).SetQuestion(name, qtype), &dns.Conn{Conn: conn})
	if err != nil {
		return nil, fmt.Errorf("%s: DNS %s %s: %w", a.Name, dns.TypeToString[qtype], name, err)
	}
	if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s: DNS %s %s: %s", a.Name, dns.TypeToString[qtype], name, dns.RcodeToString[in.Rcode])
	}
	return in, nil
}

// srvEndpoints are the "ip:port" targets of a SRV answer, each target
// resolved by the answer's additional records.
func srvEndpoints(a *cluster.Agent, name string) (map[string]bool, error) {
	in, err := nsExchange(a, name, dns.TypeSRV)
	if err != nil {
		return nil, err
	}
	ips := map[string]string{}
	for _, rr := range in.Extra {
		if r, ok := rr.(*dns.A); ok {
			ips[r.Hdr.Name] = r.A.String()
		}
	}
	out := map[string]bool{}
	for _, rr := range in.Answer {
		if srv, ok := rr.(*dns.SRV); ok {
			ip, ok := ips[srv.Target]
			if !ok {
				return nil, fmt.Errorf("%s: SRV target %s has no address record", a.Name, srv.Target)
			}
			out[net.JoinHostPort(ip, fmt.Sprint(srv.Port))] = true
		}
	}
	return out, nil
}

// aAddrs are the addresses of an A answer.
func aAddrs(a *cluster.Agent, name string) (map[string]bool, error) {
	in, err := nsExchange(a, name, dns.TypeA)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, rr := range in.Answer {
		if r, ok := rr.(*dns.A); ok {
			out[r.A.String()] = true
		}
	}
	return out, nil
}

func setOf(items ...string) map[string]bool {
	out := map[string]bool{}
	for _, s := range items {
		out[s] = true
	}
	return out
}

// hostsOf is the set of addresses of "ip:port" endpoints.
func hostsOf(eps map[string]string) map[string]bool {
	out := map[string]bool{}
	for ep := range eps {
		host, _, _ := net.SplitHostPort(ep)
		out[host] = true
	}
	return out
}

// firstOf is the first endpoint of a map in sorted order, and its value.
func firstOf(m map[string]string) (string, string) {
	k := slices.Sorted(maps.Keys(m))[0]
	return k, m[k]
}

// others are the agents other than a.
func others(agents []*cluster.Agent, a *cluster.Agent) []*cluster.Agent {
	var out []*cluster.Agent
	for _, b := range agents {
		if b != a {
			out = append(out, b)
		}
	}
	return out
}
