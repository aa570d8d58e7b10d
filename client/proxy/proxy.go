// Package proxy is the node's load balancer: for every service with an
// ingress it listens on the ingress port and forwards each connection (tcp)
// or request (http) to a healthy instance of the service anywhere in the
// cluster, as the node's catalog knows them.
//
// Instances are picked afresh for every connection or request, so a new,
// removed or unhealthy instance changes where the next one goes without
// touching the listeners; connections already open to an instance that
// turns unhealthy finish undisturbed (connection draining).
package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-project/drover/structs"
)

// Defaults of Config.
const (
	DefaultBindAddr    = "0.0.0.0"
	DefaultDialTimeout = 2 * time.Second
	// DefaultAttempts is how many instances a connection is tried on.
	DefaultAttempts = 3
	// drainTimeout bounds how long a removed http ingress waits for its
	// requests in flight.
	drainTimeout = 30 * time.Second
)

// Catalog is what the proxy needs of the node's catalog.
type Catalog interface {
	Healthy(name, tag, dc string) []structs.ServiceRegistration
}

// Config of a proxy.
type Config struct {
	Catalog Catalog
	Logger  *slog.Logger
	// BindAddr is the address ingress ports listen on (DefaultBindAddr when empty).
	BindAddr string
	// DialTimeout bounds a connection to an instance.
	DialTimeout time.Duration
	// Attempts is how many different instances a connection or an
	// idempotent request is tried on before it fails.
	Attempts int
}

// Proxy holds one listener per service with an ingress.
type Proxy struct {
	cfg  Config
	pool *backendPool // http mode's idle connections to instances

	mu        sync.Mutex
	listeners map[string]*listener
}

// New returns a proxy with no listeners; Sync opens them.
func New(cfg Config) (*Proxy, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("proxy: a catalog is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = DefaultBindAddr
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	p := &Proxy{
		cfg:       cfg,
		pool:      newBackendPool(&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}),
		listeners: map[string]*listener{},
	}
	return p, nil
}

// Sync makes the listeners match ingresses (service name → ingress):
// listeners of services no longer listed, or whose ingress changed, are
// closed (their connections and requests in flight finish), new ones are
// opened. It returns the errors of the ports that could not be opened.
func (p *Proxy) Sync(ingresses map[string]structs.ServiceIngress) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, l := range p.listeners {
		if in, ok := ingresses[name]; !ok || normalize(in) != l.ingress {
			l.close()
			delete(p.listeners, name)
		}
	}
	var errs []error
	for name, in := range ingresses {
		if _, ok := p.listeners[name]; ok {
			continue
		}
		in = normalize(in)
		if err := validate(in); err != nil {
			errs = append(errs, fmt.Errorf("service %q: ingress: %w", name, err))
			continue
		}
		l, err := p.open(name, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %q: ingress: %w", name, err))
			continue
		}
		p.listeners[name] = l
		p.cfg.Logger.Info("proxy: listening", "service", name, "addr", l.ln.Addr().String(), "protocol", in.Protocol, "algorithm", in.Algorithm)
	}
	return errors.Join(errs...)
}

// Addr is where a service's ingress listens (nil when it has none).
func (p *Proxy) Addr(service string) net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.listeners[service]; l != nil {
		return l.ln.Addr()
	}
	return nil
}

// Close closes every listener.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, l := range p.listeners {
		l.close()
		delete(p.listeners, name)
	}
	p.pool.close()
}

func normalize(in structs.ServiceIngress) structs.ServiceIngress {
	if in.Protocol == "" {
		in.Protocol = structs.IngressProtocolTCP
	}
	if in.Algorithm == "" {
		in.Algorithm = structs.IngressRoundRobin
	}
	return in
}

func validate(in structs.ServiceIngress) error {
	if in.Port < 0 || in.Port > 65535 {
		return fmt.Errorf("port %d is out of range", in.Port)
	}
	switch in.Protocol {
	case structs.IngressProtocolTCP, structs.IngressProtocolHTTP:
	default:
		return fmt.Errorf("protocol must be tcp or http, got %q", in.Protocol)
	}
	switch in.Algorithm {
	case structs.IngressRoundRobin, structs.IngressLeastConn:
	default:
		return fmt.Errorf("algorithm must be round_robin or least_conn, got %q", in.Algorithm)
	}
	if in.ProxyProtocol && in.Protocol != structs.IngressProtocolTCP {
		return errors.New("proxy_protocol applies to tcp only")
	}
	return nil
}

// listener is one service's ingress.
type listener struct {
	service string
	ingress structs.ServiceIngress
	ln      net.Listener
	bal     *balancer
	done    chan struct{} // closed when the accept loop has returned

	// cache is the service's instances, sorted, until cache.valid closes.
	cache   atomic.Pointer[backendList]
	cacheMu sync.Mutex // one refresh at a time

	// http mode: the client connections, for draining.
	connMu  sync.Mutex
	conns   map[*clientConn]struct{}
	closing bool
	drained chan struct{} // closed when the last connection ended after closing
}

type backendList struct {
	addrs []string
	valid <-chan struct{} // nil: not cached
}

func (p *Proxy) open(service string, in structs.ServiceIngress) (*listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(p.cfg.BindAddr, strconv.Itoa(in.Port)))
	if err != nil {
		return nil, err
	}
	l := &listener{service: service, ingress: in, ln: ln, bal: newBalancer(in.Algorithm), done: make(chan struct{})}
	if in.Protocol == structs.IngressProtocolHTTP {
		l.conns = map[*clientConn]struct{}{}
		l.drained = make(chan struct{})
		go func() {
			defer close(l.done)
			p.serveHTTP(l)
		}()
	} else {
		go func() {
			defer close(l.done)
			p.serveTCP(l)
		}()
	}
	return l, nil
}

// close stops accepting; what is in flight finishes on its own (http:
// requests in flight end, then their connections close; connections
// waiting for a request close at once; after drainTimeout the rest are
// closed too).
func (l *listener) close() {
	_ = l.ln.Close()
	<-l.done
	if l.conns != nil {
		l.drain(drainTimeout)
	}
}

// watcher is implemented by a catalog that says when it changes (the real
// one does): the proxy then keeps each service's instances until the next
// change instead of asking for every connection.
type watcher interface {
	Watch() <-chan struct{}
}

// backends are the addresses of a service's healthy instances, sorted
// (so that round robin's turn survives the catalog's shuffling). The slice
// is shared: callers must not change it.
func (p *Proxy) backends(l *listener) []string {
	w, cached := p.cfg.Catalog.(watcher)
	if !cached {
		return p.lookup(l.service)
	}
	if c := l.cache.Load(); c != nil && !isClosed(c.valid) {
		return c.addrs
	}
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	if c := l.cache.Load(); c != nil && !isClosed(c.valid) {
		return c.addrs // another request refreshed it meanwhile
	}
	// Watch before reading, so a change in between is not missed.
	valid := w.Watch()
	addrs := p.lookup(l.service)
	l.cache.Store(&backendList{addrs: addrs, valid: valid})
	return addrs
}

func (p *Proxy) lookup(service string) []string {
	instances := p.cfg.Catalog.Healthy(service, "", "")
	addrs := make([]string, 0, len(instances))
	for _, inst := range instances {
		addrs = append(addrs, net.JoinHostPort(inst.Address, strconv.Itoa(inst.Port)))
	}
	slices.Sort(addrs)
	return addrs
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
