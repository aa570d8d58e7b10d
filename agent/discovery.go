package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/client/dns"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/docker"
	"github.com/drover-project/drover/client/proxy"
	"github.com/drover-project/drover/server/membership"
	"github.com/drover-project/drover/structs"
)

// Service discovery on a client: the DNS server that answers
// NAME.service.drover from the node's catalog, on 127.0.0.1 and on the
// Docker bridge (where containers reach it), and the balancer that listens
// on every service's ingress port. Both follow the client's catalog, which
// holds this node's instances and, once gossip carries it (CatalogGossip),
// every node's.

// DefaultDNSPort is where the client's DNS server listens on 127.0.0.1.
const DefaultDNSPort = 4749

// ClientDNSConfig is `client { dns { ... } }`.
type ClientDNSConfig struct {
	// Disabled turns the DNS server off (enabled = false).
	Disabled bool
	// Port on 127.0.0.1 (DefaultDNSPort when 0).
	Port int
	// Recursors answer names outside the drover domain. When empty and
	// containers use the server, the host's /etc/resolv.conf servers are used.
	Recursors []string
	// NoContainerDNS keeps containers on Docker's own resolver
	// (container_dns = false): nothing listens on the bridge's port 53.
	NoContainerDNS bool
	// ContainerAddress is the IP containers are given as their DNS server
	// (container_address); the client listens there on port 53. Empty is
	// the Docker bridge's gateway. Set it when the Docker engine's
	// containers reach this agent at another address than the bridge's
	// (an agent in a network namespace or VM of its own).
	ContainerAddress string
}

type fileClientDNS struct {
	Enabled      *bool    `hcl:"enabled,optional"`
	Port         *int     `hcl:"port,optional"`
	Recursors    []string `hcl:"recursors,optional"`
	ContainerDNS *bool    `hcl:"container_dns,optional"`
	// ContainerAddress: see ClientDNSConfig.
	ContainerAddress *string `hcl:"container_address,optional"`
}

// mergeClientDNS applies a client's dns block.
func (c *Config) mergeClientDNS(f *fileClientDNS) error {
	if f == nil {
		return nil
	}
	if f.Enabled != nil {
		c.Client.DNS.Disabled = !*f.Enabled
	}
	if f.Port != nil {
		if *f.Port < 0 || *f.Port > 65535 {
			return fmt.Errorf("client.dns.port must be between 0 and 65535, got %d", *f.Port)
		}
		c.Client.DNS.Port = *f.Port
	}
	if f.Recursors != nil {
		c.Client.DNS.Recursors = f.Recursors
	}
	if f.ContainerDNS != nil {
		c.Client.DNS.NoContainerDNS = !*f.ContainerDNS
	}
	if f.ContainerAddress != nil {
		if ip := net.ParseIP(*f.ContainerAddress); ip == nil || ip.IsUnspecified() {
			return fmt.Errorf("client.dns.container_address = %q: want the IP address containers send DNS queries to", *f.ContainerAddress)
		}
		c.Client.DNS.ContainerAddress = *f.ContainerAddress
	}
	return nil
}

// mergePublishAddress applies a client's publish_address: where task ports
// are published and service instances advertised (drover's addition).
func (c *Config) mergePublishAddress(f *fileClient) error {
	if f == nil || f.PublishAddress == nil {
		return nil
	}
	ip := net.ParseIP(*f.PublishAddress)
	if ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("client.publish_address = %q: want the IP address task ports are published on", *f.PublishAddress)
	}
	c.Client.PublishAddress = ip.String()
	return nil
}

// discovery is what startDiscovery runs.
type discovery struct {
	servers []*dns.Server
	proxy   *proxy.Proxy
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// CatalogGossip returns the client catalog's memberlist delegates, for the
// region's gossip pool: give the Delegate to memberlist.Config.Delegate
// (or call it from a delegate the pool shares, telling the catalog's
// messages and states apart by their first byte, catalog.MsgUpdate and
// catalog.MsgState) and the EventDelegate to memberlist.Config.Events (or
// fan events out to it). The member's name must be the client's
// CatalogMemberName (its node ID unless set). ok is false without a client.
func (a *Agent) CatalogGossip() (d memberlist.Delegate, events memberlist.EventDelegate, ok bool) {
	if a.client == nil {
		return nil, nil, false
	}
	cat := a.client.Catalog()
	return cat.Delegate(), cat.EventDelegate(), true
}

// startDiscovery starts the DNS server and the balancer of a client. A
// port that cannot be opened is logged, not fatal: the node still runs
// its jobs (several dev agents on one machine share its ports).
func (a *Agent) startDiscovery(ctx context.Context, dd driver.Driver) {
	cfg := a.cfg.Client.DNS
	cat := a.client.Catalog()
	ctx, cancel := context.WithCancel(ctx)
	d := &discovery{cancel: cancel}
	a.discovery = d
	log := a.log.With("component", "discovery")

	if !cfg.Disabled {
		port := cfg.Port
		if port == 0 {
			port = DefaultDNSPort
		}
		recursors := cfg.Recursors
		// Containers ask the bridge's gateway, or the address the
		// operator says they reach this agent at.
		bridgeIP := a.client.Node().Attributes["driver.docker.bridge_ip"]
		if cfg.ContainerAddress != "" {
			bridgeIP = cfg.ContainerAddress
		}
		containerDNS := !cfg.NoContainerDNS && bridgeIP != ""
		if len(recursors) == 0 && containerDNS {
			// Containers send every name here: the rest goes to the host's resolvers.
			recursors = hostResolvers("/etc/resolv.conf")
		}
		start := func(addrs ...string) (*dns.Server, error) {
			s, err := dns.New(dns.Config{Catalog: cat, Addrs: addrs, Recursors: recursors, Logger: log})
			if err == nil {
				d.servers = append(d.servers, s)
				log.Info("DNS server listening", "addrs", s.Addrs())
			}
			return s, err
		}
		if _, err := start(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
			log.Warn("DNS server not started", "error", err)
		}
		if containerDNS {
			// Docker's dns option takes addresses only: port 53 is implied.
			if _, err := start(net.JoinHostPort(bridgeIP, "53")); err != nil {
				log.Warn("containers keep Docker's resolver: the DNS server cannot listen on the bridge", "error", err)
			} else if dk, ok := dd.(*docker.Driver); ok {
				dk.SetDefaultDNS(&driver.DNSConfig{Servers: []string{bridgeIP}})
			}
		}
	}

	// Ingress ports listen where the agent does: every interface in
	// production (bind_addr 0.0.0.0), loopback for a dev agent.
	p, err := proxy.New(proxy.Config{Catalog: cat, Logger: log, BindAddr: a.cfg.BindAddr})
	if err != nil {
		log.Error("load balancer not started", "error", err)
		return
	}
	d.proxy = p
	d.wg.Go(func() { followIngresses(ctx, cat, p, log.Warn) })
}

// followIngresses keeps the balancer's listeners on the ingresses of the
// services in the catalog.
func followIngresses(ctx context.Context, cat *catalog.Catalog, p *proxy.Proxy, warn func(string, ...any)) {
	var lastErr string
	for {
		changed := cat.Watch()
		ingresses := map[string]structs.ServiceIngress{}
		for _, name := range cat.Services() {
			for _, r := range cat.All(name) {
				if r.Ingress != nil {
					ingresses[name] = *r.Ingress
					break
				}
			}
		}
		if err := p.Sync(ingresses); err != nil && err.Error() != lastErr {
			warn("ingress ports not opened", "error", err)
			lastErr = err.Error()
		} else if err == nil {
			lastErr = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// stopDiscovery closes the balancer and the DNS servers.
func (a *Agent) stopDiscovery() {
	d := a.discovery
	if d == nil {
		return
	}
	d.cancel()
	d.wg.Wait()
	if d.proxy != nil {
		d.proxy.Close()
	}
	for _, s := range d.servers {
		s.Close()
	}
}

// hostResolvers reads the nameservers of a resolv.conf.
func hostResolvers(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			out = append(out, fields[1])
		}
	}
	return out
}

// publishIP is where the client publishes task ports and advertises its
// service instances: client.publish_address, else advertiseIP. Set it
// when the Docker engine binds ports on another address than the one the
// agent is bound to (the engine in another network namespace or VM).
func (a *Agent) publishIP() string {
	if a.cfg.Client.PublishAddress != "" {
		return a.cfg.Client.PublishAddress
	}
	return a.advertiseIP()
}

// catalogMemberName is the client catalog's name in the region's gossip
// pool: the server's member name ("name.region") in an agent that runs
// both, "" (the node ID) for a client whose agent joins the pool itself.
func (a *Agent) catalogMemberName() string {
	if a.catalogGossip == nil {
		return ""
	}
	return a.cfg.Name + "." + a.cfg.Region
}

// lazyGossip carries the client catalog over the server's gossip pool in
// an agent that runs both. The pool starts with the server, before the
// client and its catalog exist, so the pool gets these delegates at once
// and the catalog is plugged into them later. Until then messages and
// states are dropped (the full-state exchange repairs that) and the pool's
// joins and leaves are kept, to be replayed to the catalog when it is
// plugged: it must know who is alive to accept relayed state.
type lazyGossip struct {
	mu     sync.Mutex
	d      memberlist.Delegate
	ev     memberlist.EventDelegate
	seen   map[string]*memberlist.Node // last event of each member before plug
	alive  map[string]bool
	events []string // member names in the order first seen
}

func newLazyGossip() *lazyGossip {
	return &lazyGossip{seen: map[string]*memberlist.Node{}, alive: map[string]bool{}}
}

// delegates are what the server's pool calls.
func (l *lazyGossip) delegates() *membership.Delegates {
	return &membership.Delegates{Delegate: (*lazyDelegate)(l), Events: (*lazyEvents)(l)}
}

// plug hands the pool to the catalog, replaying the members seen so far.
// The replay runs under the lock, so that no later event overtakes it.
func (l *lazyGossip) plug(d memberlist.Delegate, ev memberlist.EventDelegate) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, name := range l.events {
		n := l.seen[name]
		if l.alive[name] {
			ev.NotifyJoin(n)
		} else {
			ev.NotifyLeave(n)
		}
	}
	l.seen, l.alive, l.events = nil, nil, nil
	l.d, l.ev = d, ev
}

func (l *lazyGossip) delegate() memberlist.Delegate {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d
}

// record notes an event for the catalog, or passes it on once plugged.
func (l *lazyGossip) record(n *memberlist.Node, alive bool, pass func(memberlist.EventDelegate)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ev != nil {
		pass(l.ev)
		return
	}
	if _, ok := l.seen[n.Name]; !ok {
		l.events = append(l.events, n.Name)
	}
	c := *n
	l.seen[n.Name] = &c
	l.alive[n.Name] = alive
}

type lazyDelegate lazyGossip

func (l *lazyDelegate) NodeMeta(limit int) []byte { return nil } // the pool keeps its own tags

func (l *lazyDelegate) NotifyMsg(msg []byte) {
	if d := (*lazyGossip)(l).delegate(); d != nil {
		d.NotifyMsg(msg)
	}
}

func (l *lazyDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	if d := (*lazyGossip)(l).delegate(); d != nil {
		return d.GetBroadcasts(overhead, limit)
	}
	return nil
}

func (l *lazyDelegate) LocalState(join bool) []byte {
	if d := (*lazyGossip)(l).delegate(); d != nil {
		return d.LocalState(join)
	}
	return nil
}

func (l *lazyDelegate) MergeRemoteState(buf []byte, join bool) {
	if d := (*lazyGossip)(l).delegate(); d != nil {
		d.MergeRemoteState(buf, join)
	}
}

type lazyEvents lazyGossip

func (l *lazyEvents) NotifyJoin(n *memberlist.Node) {
	(*lazyGossip)(l).record(n, true, func(ev memberlist.EventDelegate) { ev.NotifyJoin(n) })
}

func (l *lazyEvents) NotifyLeave(n *memberlist.Node) {
	(*lazyGossip)(l).record(n, false, func(ev memberlist.EventDelegate) { ev.NotifyLeave(n) })
}

func (l *lazyEvents) NotifyUpdate(n *memberlist.Node) {
	(*lazyGossip)(l).record(n, true, func(ev memberlist.EventDelegate) { ev.NotifyUpdate(n) })
}
