package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Task ports and container DNS in a cluster whose clients run real
// containers (Options.PublishPorts).
//
// The Docker engine runs in the root namespace, not in the client's, so it
// cannot publish ports on the client's own address, and its containers
// cannot reach a DNS server on the client's Docker bridge address. As on
// machines whose Docker engine sits at another address than the agent,
// each client is told where its ports are published (client.publish_address:
// an address of its own on the cluster's bridge, in the root namespace,
// reachable from every namespace) and which address its containers ask
// for DNS (client.dns.container_address: the client's own address, where
// the containers reach it through the root namespace's routing, masqueraded
// by Docker's own rule for the bridge). Each client also gets a dynamic
// port range of its own, so that no two clients ever pick the same port
// in the one namespace where they are all published.

// Where the clients' publish addresses start on the bridge: agents take
// .11 to .210 (firstHostIP + maxAgents), the gateway .1.
const firstPublishHost = firstHostIP + maxAgents + 1

// maxPublishClients is how many clients can get a publish address.
const maxPublishClients = 254 - firstPublishHost + 1

// The dynamic ports shared out between the clients.
const (
	publishMinPort = 20000
	publishMaxPort = 32000
	// publishSpan is the most any one client gets: enough for any test.
	publishSpan = 1000
)

// publishIP is the publish address of the k-th client (from 1).
func (nw *network) publishIP(k int) string {
	return fmt.Sprintf("%s%d.%d", subnetPrefix, nw.octet, firstPublishHost+k-1)
}

// addPublishIP gives the root namespace the k-th client's publish address
// on the bridge. A /32, so that no second route to the subnet appears; the
// bridge answers ARP for it to every namespace. It goes with the bridge.
func (nw *network) addPublishIP(k int) (string, error) {
	if k < 1 || k > maxPublishClients {
		return "", fmt.Errorf("client %d: only %d clients can publish ports", k, maxPublishClients)
	}
	ip := nw.publishIP(k)
	if _, err := run("ip", "addr", "add", ip+"/32", "dev", nw.bridge); err != nil {
		return "", err
	}
	return ip, nil
}

// publishConfig writes the k-th of n clients' config file for
// Options.PublishPorts and returns its path.
func (c *Cluster) publishConfig(a *Agent, k, n int) (string, error) {
	ip, err := c.net.addPublishIP(k)
	if err != nil {
		return "", err
	}
	span := min(publishSpan, (publishMaxPort-publishMinPort)/n)
	lo := publishMinPort + (k-1)*span
	a.PublishIP, a.MinDynamicPort, a.MaxDynamicPort = ip, lo, lo+span-1
	src := fmt.Sprintf(`client {
  publish_address  = %q
  min_dynamic_port = %d
  max_dynamic_port = %d
  dns {
    container_address = %q
  }
}
`, a.PublishIP, a.MinDynamicPort, a.MaxDynamicPort, a.IP)
	path := filepath.Join(c.dir, a.Name+"-publish.hcl")
	return path, os.WriteFile(path, []byte(src), 0o644)
}

// Dial connects to addr from inside the agent's network namespace, as a
// process of that namespace would: to the agent's loopback listeners (its
// DNS server on 127.0.0.1, say), or through its view of the network. The
// connection is usable from any goroutine.
func (a *Agent) Dial(network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		conn, err := a.dialInNetns(network, addr)
		ch <- result{conn, err}
	}()
	r := <-ch
	if r.err != nil {
		if r.conn != nil {
			r.conn.Close()
		}
		return nil, fmt.Errorf("%s: dial %s %s from namespace %s: %w", a.Name, network, addr, a.Netns, r.err)
	}
	return r.conn, nil
}

// dialInNetns runs on a goroutine of its own: it locks the goroutine to
// its thread, moves the thread into the namespace, makes the socket there
// (a socket stays in the namespace it was made in), and moves the thread
// back. A thread that cannot move back is never unlocked, so the runtime
// ends it with the goroutine instead of reusing it.
func (a *Agent) dialInNetns(network, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer home.Close()
	target, err := os.Open(filepath.Join("/run/netns", a.Netns))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("setns: %w", err)
	}
	conn, dialErr := net.Dial(network, addr)
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with this goroutine.
		return conn, errors.Join(dialErr, fmt.Errorf("setns back to the root namespace: %w", err))
	}
	runtime.UnlockOSThread()
	return conn, dialErr
}
