package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The private network of one cluster: the /24 10.213.<octet>.0, a bridge in
// the root namespace holding .1, and one network namespace per agent with a
// veth pair to the bridge. Namespaces get no default route, so agents can
// reach each other, the root namespace and their own loopback, and nothing
// else.
//
// Names carry the octet, so a run can recognise (and remove) what crashed
// runs left behind, and never touches another live run's: an octet is
// leased with an flock that the kernel releases when the owning process
// dies, however it dies, and only octets whose lease is free are swept.
const (
	subnetPrefix = "10.213."
	netnsPrefix  = "drover-e2e-" // + octet + "-" + index
	linkPrefix   = "drve2e"      // bridge: + octet; veth: + octet + "-" + index
	firstHostIP  = 10            // agent i (from 1) gets .10+i
	maxAgents    = 200
)

// cmdTimeout bounds every ip/iptables command: none of them should take
// more than a moment, and a hung one must not hang the test.
const cmdTimeout = 20 * time.Second

// network is one cluster's subnet, bridge and namespaces.
type network struct {
	octet  int
	lease  *os.File
	bridge string
	// forwardRule is set once the FORWARD accept rule for the bridge is in.
	forwardRule bool
	namespaces  []string
}

// checkNetns says why network namespaces cannot be used here, or nil.
func checkNetns() error {
	if os.Geteuid() != 0 {
		return errors.New("the cluster harness needs root (network namespaces, veth pairs, iptables)")
	}
	for _, tool := range []string{"ip", "iptables", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("the cluster harness needs %s (apt-get install iproute2 iptables): %w", tool, err)
		}
	}
	if _, err := run("ip", "netns", "list"); err != nil {
		return fmt.Errorf("ip netns is unavailable: %w", err)
	}
	return nil
}

// newNetwork removes what crashed runs left, leases a free octet and makes
// the bridge.
func newNetwork() (*network, error) {
	lockDir := filepath.Join(os.TempDir(), "drover-e2e-net")
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, err
	}
	if err := sweepLeftovers(lockDir); err != nil {
		return nil, err
	}
	// Start at a spot that depends on the process, so concurrent runs
	// rarely contend for the same lock; try each octet once.
	start := os.Getpid() % 254
	for i := range 254 {
		octet := (start+i)%254 + 1
		lease, err := leaseOctet(lockDir, octet)
		if err != nil {
			return nil, err
		}
		if lease == nil {
			continue // a live run holds it
		}
		nw := &network{octet: octet, lease: lease, bridge: linkPrefix + strconv.Itoa(octet)}
		if err := nw.removeLeftovers(); err != nil {
			nw.release()
			return nil, fmt.Errorf("remove leftovers of an earlier run on %s: %w", nw.subnet(), err)
		}
		if inUse, err := subnetRouted(nw.subnet()); err != nil || inUse {
			nw.release()
			if err != nil {
				return nil, err
			}
			continue // someone else's network uses these addresses
		}
		if err := nw.makeBridge(); err != nil {
			nw.teardown()
			return nil, err
		}
		return nw, nil
	}
	return nil, errors.New("no free 10.213.X.0/24 subnet: every lease is held")
}

// sweepLeftovers removes what runs that died left under any octet: every
// octet with a namespace or link of ours whose lease no live process holds.
func sweepLeftovers(lockDir string) error {
	octets := map[int]bool{}
	nsList, err := run("ip", "netns", "list")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(nsList, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ") // "name (id: 3)"
		if rest, ok := strings.CutPrefix(name, netnsPrefix); ok {
			octet, _, _ := strings.Cut(rest, "-")
			if n, err := strconv.Atoi(octet); err == nil {
				octets[n] = true
			}
		}
	}
	links, err := run("ip", "-o", "link", "show")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(links, "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 {
			name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
			if rest, ok := strings.CutPrefix(name, linkPrefix); ok {
				octet, _, _ := strings.Cut(rest, "-")
				if n, err := strconv.Atoi(octet); err == nil {
					octets[n] = true
				}
			}
		}
	}
	var errs []error
	for octet := range octets {
		if octet < 1 || octet > 254 {
			continue
		}
		lease, err := leaseOctet(lockDir, octet)
		if err != nil {
			return err
		}
		if lease == nil {
			continue // a live run owns it
		}
		dead := &network{octet: octet, lease: lease, bridge: linkPrefix + strconv.Itoa(octet)}
		if err := dead.removeLeftovers(); err != nil {
			errs = append(errs, fmt.Errorf("remove leftovers of an earlier run on %s: %w", dead.subnet(), err))
		}
		dead.release()
	}
	return errors.Join(errs...)
}

// leaseOctet takes the lock of an octet, or returns nil when a live
// process holds it.
func leaseOctet(dir string, octet int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(octet)+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return f, nil
}

func (nw *network) subnet() string { return fmt.Sprintf("%s%d.0/24", subnetPrefix, nw.octet) }

// GatewayIP is the bridge's address: where the root namespace (the test)
// appears to the agents.
func (nw *network) gatewayIP() string { return fmt.Sprintf("%s%d.1", subnetPrefix, nw.octet) }

func (nw *network) hostIP(index int) string {
	return fmt.Sprintf("%s%d.%d", subnetPrefix, nw.octet, firstHostIP+index)
}

func (nw *network) netnsName(index int) string {
	return fmt.Sprintf("%s%d-%d", netnsPrefix, nw.octet, index)
}

func (nw *network) vethName(index int) string {
	return fmt.Sprintf("%s%d-%d", linkPrefix, nw.octet, index)
}

// subnetRouted reports whether the root namespace already routes a subnet.
func subnetRouted(subnet string) (bool, error) {
	out, err := run("ip", "-4", "-o", "route", "show", "to", "match", strings.TrimSuffix(subnet, "0/24")+"1")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(out, "\n") {
		// "default via ..." matches every address; any other route that
		// covers the subnet's gateway says someone uses these addresses.
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "default") {
			return true, nil
		}
	}
	return false, nil
}

func (nw *network) makeBridge() error {
	if _, err := run("ip", "link", "add", nw.bridge, "type", "bridge"); err != nil {
		return err
	}
	if _, err := run("ip", "addr", "add", nw.gatewayIP()+"/24", "dev", nw.bridge); err != nil {
		return err
	}
	if _, err := run("ip", "link", "set", nw.bridge, "up"); err != nil {
		return err
	}
	// With br_netfilter loaded (Docker loads it) bridged frames pass the
	// root namespace's FORWARD chain, whose policy Docker sets to DROP:
	// let the cluster's own traffic through.
	if _, err := run("iptables", append([]string{"-I", "FORWARD", "1"}, nw.forwardRuleSpec()...)...); err != nil {
		return err
	}
	nw.forwardRule = true
	return nil
}

func (nw *network) forwardRuleSpec() []string {
	return []string{"-i", nw.bridge, "-o", nw.bridge, "-j", "ACCEPT"}
}

// addNamespace makes agent index's namespace with its end of a veth pair
// on the bridge, and returns the namespace's name and address.
func (nw *network) addNamespace(index int) (ns, ip string, err error) {
	if index < 1 || index > maxAgents {
		return "", "", fmt.Errorf("agent index %d out of 1..%d", index, maxAgents)
	}
	ns, ip, veth := nw.netnsName(index), nw.hostIP(index), nw.vethName(index)
	if _, err := run("ip", "netns", "add", ns); err != nil {
		return "", "", err
	}
	nw.namespaces = append(nw.namespaces, ns)
	steps := [][]string{
		{"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "link", "set", veth, "master", nw.bridge, "up"},
		{"ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if _, err := run(s[0], s[1:]...); err != nil {
			return "", "", err
		}
	}
	return ns, ip, nil
}

// dropBetween makes ns drop every packet to and from the given addresses.
// The rules sit in the namespace's own filter table, so they cut
// established connections too, and nothing outside the namespace changes.
func dropBetween(ns string, ips []string) error {
	var rules bytes.Buffer
	rules.WriteString("*filter\n")
	for _, ip := range ips {
		fmt.Fprintf(&rules, "-A INPUT -s %s/32 -j DROP\n-A OUTPUT -d %s/32 -j DROP\n", ip, ip)
	}
	rules.WriteString("COMMIT\n")
	cmd := exec.Command("ip", "netns", "exec", ns, "iptables-restore", "--noflush")
	cmd.Stdin = &rules
	_, err := runCmd(cmd)
	return err
}

// allowAll removes every filter rule of a namespace.
func allowAll(ns string) error {
	_, err := run("ip", "netns", "exec", ns, "iptables", "-F")
	return err
}

// teardown kills whatever still runs in the namespaces and removes them,
// the veths, the bridge and the FORWARD rule, then releases the lease.
func (nw *network) teardown() error {
	var errs []error
	for _, ns := range nw.namespaces {
		errs = append(errs, removeNamespace(ns))
	}
	nw.namespaces = nil
	errs = append(errs, nw.removeLinks())
	if nw.forwardRule {
		errs = append(errs, nw.removeForwardRules())
		nw.forwardRule = false
	}
	nw.release()
	return errors.Join(errs...)
}

func (nw *network) release() {
	if nw.lease != nil {
		nw.lease.Close() // closing the last descriptor drops the flock
		nw.lease = nil
	}
}

// removeLeftovers removes namespaces, links and rules named for this
// octet. Only called while holding the octet's lease, so whatever it finds
// belongs to a run that died.
func (nw *network) removeLeftovers() error {
	out, err := run("ip", "netns", "list")
	if err != nil {
		return err
	}
	var errs []error
	prefix := fmt.Sprintf("%s%d-", netnsPrefix, nw.octet)
	for _, line := range strings.Split(out, "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ") // "name (id: 3)"
		if strings.HasPrefix(name, prefix) {
			errs = append(errs, removeNamespace(name))
		}
	}
	errs = append(errs, nw.removeLinks(), nw.removeForwardRules())
	return errors.Join(errs...)
}

// removeNamespace kills the processes inside ns and deletes it.
func removeNamespace(ns string) error {
	// The test normally stopped every agent already; this catches the
	// ones a crashed run left, and anything an agent started.
	for range 10 {
		out, err := run("ip", "netns", "pids", ns)
		if err != nil {
			break // the namespace is gone already
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				syscall.Kill(pid, syscall.SIGKILL) // may have exited meanwhile
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := run("ip", "netns", "del", ns); err != nil && !strings.Contains(err.Error(), "No such file") {
		return err
	}
	return nil
}

// removeLinks deletes the bridge and the root ends of the veths (which
// takes their peers with them).
func (nw *network) removeLinks() error {
	out, err := run("ip", "-o", "link", "show")
	if err != nil {
		return err
	}
	var errs []error
	vethPrefix := nw.bridge + "-"
	for _, line := range strings.Split(out, "\n") {
		// "12: drve2e7-1@if2: <BROADCAST,...> ..."
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
		if strings.HasPrefix(name, vethPrefix) {
			errs = append(errs, delLink(name))
		}
	}
	errs = append(errs, delLink(nw.bridge))
	return errors.Join(errs...)
}

func delLink(name string) error {
	if _, err := run("ip", "link", "del", name); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		return err
	}
	return nil
}

// removeForwardRules deletes every copy of the bridge's FORWARD rule.
func (nw *network) removeForwardRules() error {
	for range 20 {
		if _, err := run("iptables", append([]string{"-C", "FORWARD"}, nw.forwardRuleSpec()...)...); err != nil {
			return nil // no copy left
		}
		if _, err := run("iptables", append([]string{"-D", "FORWARD"}, nw.forwardRuleSpec()...)...); err != nil {
			return err
		}
	}
	return fmt.Errorf("FORWARD rule for %s still present after 20 deletions", nw.bridge)
}

// run runs a command and returns its output; a failure carries the output.
func run(name string, args ...string) (string, error) {
	return runCmd(exec.Command(name, args...))
}

func runCmd(cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return out.String(), fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(out.String()))
		}
		return out.String(), nil
	case <-time.After(cmdTimeout):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("%s: no answer within %s", strings.Join(cmd.Args, " "), cmdTimeout)
	}
}
