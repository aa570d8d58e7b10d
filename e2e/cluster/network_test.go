package cluster

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func requireNetns(t *testing.T) {
	t.Helper()
	if err := checkNetns(); err != nil {
		if os.Getenv(RequireNetnsEnv) == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// TestLeftoversOfACrashedRunAreRemoved plays a run that died without its
// cleanup: its namespace, a process inside it, its veth, bridge and
// FORWARD rule stay behind, and its lease is gone with it. The next run
// removes them all.
func TestLeftoversOfACrashedRunAreRemoved(t *testing.T) {
	requireNetns(t)
	crashed, err := newNetwork()
	if err != nil {
		t.Fatal(err)
	}
	ns, _, err := crashed.addNamespace(1)
	if err != nil {
		crashed.teardown()
		t.Fatal(err)
	}
	orphan := exec.Command("ip", "netns", "exec", ns, "sleep", "300")
	if err := orphan.Start(); err != nil {
		crashed.teardown()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- orphan.Wait() }()
	crashed.release() // the crash: the kernel drops the flock, nothing else happens

	// This process starts its search at the same octet, so it gets the
	// one just released.
	next, err := newNetwork()
	if err != nil {
		t.Fatal(err)
	}
	defer next.teardown()
	if next.octet != crashed.octet {
		t.Fatalf("leased octet %d, want the released %d", next.octet, crashed.octet)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		orphan.Process.Kill()
		t.Fatal("the process left in the crashed run's namespace still runs")
	}
	out, err := run("ip", "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, ns) {
		t.Errorf("namespace %s survived:\n%s", ns, out)
	}
	if _, err := run("ip", "link", "show", crashed.vethName(1)); err == nil {
		t.Errorf("veth %s survived", crashed.vethName(1))
	}
	rules, err := run("iptables", "-S", "FORWARD")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(rules, "-i "+next.bridge+" -o "+next.bridge+" "); n != 1 {
		t.Errorf("%d FORWARD rules for %s, want the new run's one:\n%s", n, next.bridge, rules)
	}
}

// TestPartitionDropsOnlyBetweenGroups checks the packet filter without any
// agent: two namespaces reach each other, then do not, then do again, and
// the root namespace reaches both throughout.
func TestPartitionDropsOnlyBetweenGroups(t *testing.T) {
	requireNetns(t)
	nw, err := newNetwork()
	if err != nil {
		t.Fatal(err)
	}
	defer nw.teardown()
	for i := 1; i <= 2; i++ {
		if _, _, err := nw.addNamespace(i); err != nil {
			t.Fatal(err)
		}
	}
	a := &Agent{Name: "a", IP: nw.hostIP(1), Netns: nw.netnsName(1)}
	b := &Agent{Name: "b", IP: nw.hostIP(2), Netns: nw.netnsName(2)}
	// Nothing listens on port 9: a refused connection proves the path
	// works as well as an accepted one would; only a drop times out.
	reachable := func(from *Agent, ip string) bool {
		_, err := run("ip", "netns", "exec", from.Netns, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/"+ip+"/9")
		return err == nil || !strings.Contains(err.Error(), "exit status 124")
	}
	if !reachable(a, b.IP) || !reachable(b, a.IP) {
		t.Fatal("namespaces do not reach each other")
	}
	if err := dropBetween(a.Netns, []string{b.IP}); err != nil {
		t.Fatal(err)
	}
	if reachable(a, b.IP) || reachable(b, a.IP) {
		t.Fatal("the drop rules let packets through")
	}
	if !reachable(a, nw.gatewayIP()) || !reachable(b, nw.gatewayIP()) {
		t.Fatal("a partition between agents cut the root namespace off")
	}
	if err := allowAll(a.Netns); err != nil {
		t.Fatal(err)
	}
	if !reachable(a, b.IP) || !reachable(b, a.IP) {
		t.Fatal("namespaces do not reach each other after healing")
	}
}
