// Package dns answers DNS queries for services from the node's catalog:
// NAME.service.drover (A, AAAA, SRV) lists the healthy instances of a
// service, TAG.NAME.service.drover those with a tag, and
// NAME.service.DC.drover those of one datacenter. Names outside the domain
// are refused, or forwarded to the configured upstream resolvers.
package dns

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/drover-project/drover/structs"
)

// Defaults of Config.
const (
	DefaultDomain = "drover."
	DefaultAddr   = "127.0.0.1:4749"
	// DefaultRecursorTimeout bounds one forwarded query.
	DefaultRecursorTimeout = 2 * time.Second
)

// Catalog is what the server needs of the node's catalog.
type Catalog interface {
	// Healthy returns the healthy instances of service name, with tag (if
	// not empty), in datacenter dc (if not empty).
	Healthy(name, tag, dc string) []structs.ServiceRegistration
}

// Config of a DNS server.
type Config struct {
	Catalog Catalog
	// Domain is the zone answered, e.g. "drover." (DefaultDomain when empty).
	Domain string
	// Addrs are host:port addresses to listen on, over UDP and TCP
	// (DefaultAddr when empty). Port 0 picks a free port; see Addrs.
	Addrs []string
	// Recursors are upstream resolvers (host or host:port) that names
	// outside the domain are forwarded to; without them those are refused.
	Recursors       []string
	RecursorTimeout time.Duration
	// TTL of the answers. Zero by default: health changes must be seen at once.
	TTL    time.Duration
	Logger *slog.Logger
}

// Server is a running DNS server.
type Server struct {
	cfg     Config
	servers []*dns.Server
	addrs   []string
	wg      sync.WaitGroup
}

// New listens on every configured address (UDP and TCP) and serves.
func New(cfg Config) (*Server, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("dns: a catalog is required")
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	cfg.Domain = dns.Fqdn(strings.ToLower(cfg.Domain))
	if len(cfg.Addrs) == 0 {
		cfg.Addrs = []string{DefaultAddr}
	}
	if cfg.RecursorTimeout <= 0 {
		cfg.RecursorTimeout = DefaultRecursorTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	recursors := make([]string, len(cfg.Recursors))
	for i, r := range cfg.Recursors {
		if _, _, err := net.SplitHostPort(r); err != nil {
			r = net.JoinHostPort(r, "53")
		}
		recursors[i] = r
	}
	cfg.Recursors = recursors

	s := &Server{cfg: cfg}
	for _, addr := range cfg.Addrs {
		pc, l, err := listen(addr)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.addrs = append(s.addrs, pc.LocalAddr().String())
		s.serve(&dns.Server{PacketConn: pc, Handler: s})
		s.serve(&dns.Server{Listener: l, Handler: s, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	}
	return s, nil
}

// listen binds UDP and TCP on one port. For port 0 the UDP socket picks
// the port, and a few ports are tried in case TCP's is taken.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns: address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 10
	}
	for i := 1; ; i++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		bound := pc.LocalAddr().String()
		l, err := net.Listen("tcp", bound)
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		if i == tries {
			return nil, nil, fmt.Errorf("dns: listen tcp %s: %w", bound, err)
		}
	}
}

// serve starts srv and returns once it serves, so that Close cannot run
// before it started (a server shut down before it starts would serve on).
func (s *Server) serve(srv *dns.Server) {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	failed := make(chan struct{})
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.ActivateAndServe(); err != nil {
			s.cfg.Logger.Error("dns: server stopped", "error", err)
		}
		close(failed)
	}()
	select {
	case <-started:
	case <-failed:
	}
}

// Addrs are the addresses the server listens on (with the ports picked for port 0).
func (s *Server) Addrs() []string { return s.addrs }

// Close stops serving.
func (s *Server) Close() {
	for _, srv := range s.servers {
		_ = srv.Shutdown()
	}
	s.wg.Wait()
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := s.answer(w, req)
	if resp == nil {
		return
	}
	if isUDP(w) {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
		resp.Truncate(size)
	}
	if err := w.WriteMsg(resp); err != nil {
		s.cfg.Logger.Debug("dns: writing an answer", "error", err)
	}
}

func (s *Server) answer(w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		return resp.SetRcode(req, dns.RcodeNotImplemented)
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if name != s.cfg.Domain && !strings.HasSuffix(name, "."+s.cfg.Domain) {
		return s.forward(w, req)
	}
	resp.SetReply(req)
	resp.Authoritative = true
	resp.Compress = true

	labels := dns.SplitDomainName(strings.TrimSuffix(name, s.cfg.Domain))
	switch {
	case len(labels) == 0:
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			resp.Answer = append(resp.Answer, s.soa())
		}
	case labels[len(labels)-1] == "addr" && len(labels) == 2:
		if !s.answerAddr(resp, q, labels[0]) {
			return s.nxdomain(resp)
		}
	default:
		lookup, ok := parseServiceName(labels)
		if !ok {
			return s.nxdomain(resp)
		}
		instances := s.cfg.Catalog.Healthy(lookup.name, lookup.tag, lookup.dc)
		if len(instances) == 0 {
			return s.nxdomain(resp)
		}
		shuffle(instances)
		s.answerService(resp, q, instances)
	}
	return resp
}

// lookup is what a service name asks for.
type lookup struct{ name, tag, dc string }

// parseServiceName reads the labels before the domain:
//
//	NAME.service               TAG.NAME.service
//	NAME.service.DC            TAG.NAME.service.DC
//	_NAME._TAG.service[.DC]    (RFC 2782; _tcp means any tag)
func parseServiceName(labels []string) (lookup, bool) {
	var l lookup
	i := len(labels) - 1
	if labels[i] != "service" {
		if i < 1 || labels[i-1] != "service" {
			return l, false
		}
		l.dc = labels[i]
		i--
	}
	before := labels[:i]
	switch len(before) {
	case 1:
		l.name = before[0]
	case 2:
		if strings.HasPrefix(before[0], "_") && strings.HasPrefix(before[1], "_") {
			l.name = before[0][1:]
			if proto := before[1][1:]; proto != "tcp" {
				l.tag = proto
			}
		} else {
			l.tag, l.name = before[0], before[1]
		}
	default:
		return l, false
	}
	return l, l.name != ""
}

// answerService fills A, AAAA or SRV records (ANY: A and AAAA).
func (s *Server) answerService(resp *dns.Msg, q dns.Question, instances []structs.ServiceRegistration) {
	ttl := uint32(s.cfg.TTL / time.Second)
	seen := map[string]bool{}
	for _, inst := range instances {
		switch q.Qtype {
		case dns.TypeA, dns.TypeAAAA, dns.TypeANY:
			if !seen[inst.Address] {
				seen[inst.Address] = true
				if rr := addressRecord(q.Name, inst.Address, q.Qtype, ttl); rr != nil {
					resp.Answer = append(resp.Answer, rr)
				}
			}
		case dns.TypeSRV:
			target := s.target(inst.Address)
			resp.Answer = append(resp.Answer, &dns.SRV{
				Hdr:    dns.RR_Header{Name: q.Name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: ttl},
				Weight: 1, Port: uint16(inst.Port), Target: target,
			})
			if !seen[target] {
				seen[target] = true
				if rr := addressRecord(target, inst.Address, dns.TypeANY, ttl); rr != nil {
					resp.Extra = append(resp.Extra, rr)
				}
			}
		}
	}
}

// target is the SRV target of an address: HEX-IP.addr.DOMAIN, which this
// server resolves by itself (a host name is its own target).
func (s *Server) target(address string) string {
	ip := net.ParseIP(address)
	if ip == nil {
		return dns.Fqdn(address)
	}
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return fmt.Sprintf("%x.addr.%s", []byte(ip), s.cfg.Domain)
}

// answerAddr resolves a HEX-IP.addr target.
func (s *Server) answerAddr(resp *dns.Msg, q dns.Question, hexIP string) bool {
	b, err := hex.DecodeString(hexIP)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return false
	}
	if rr := addressRecord(q.Name, net.IP(b).String(), q.Qtype, uint32(s.cfg.TTL/time.Second)); rr != nil {
		resp.Answer = append(resp.Answer, rr)
	}
	return true
}

// addressRecord is an A or AAAA record of address when it matches qtype
// (ANY matches both); nil otherwise or when address is not an IP.
func addressRecord(name, address string, qtype uint16, ttl uint32) dns.RR {
	ip := net.ParseIP(address)
	if ip == nil {
		return nil
	}
	if v4 := ip.To4(); v4 != nil {
		if qtype != dns.TypeA && qtype != dns.TypeANY {
			return nil
		}
		return &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: v4}
	}
	if qtype != dns.TypeAAAA && qtype != dns.TypeANY {
		return nil
	}
	return &dns.AAAA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip}
}

func (s *Server) nxdomain(resp *dns.Msg) *dns.Msg {
	resp.Rcode = dns.RcodeNameError
	resp.Ns = []dns.RR{s.soa()}
	return resp
}

// soa is the zone's SOA, sent with NXDOMAIN so that resolvers cache the
// negative answer no longer than the TTL.
func (s *Server) soa() dns.RR {
	ttl := uint32(s.cfg.TTL / time.Second)
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: s.cfg.Domain, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:  "ns." + s.cfg.Domain, Mbox: "hostmaster." + s.cfg.Domain,
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: ttl,
	}
}

// forward sends a query outside the domain to the recursors, in order,
// over the transport it came by; without recursors it is refused.
func (s *Server) forward(w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	if len(s.cfg.Recursors) == 0 {
		return new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	}
	network := "udp"
	if !isUDP(w) {
		network = "tcp"
	}
	client := &dns.Client{Net: network, Timeout: s.cfg.RecursorTimeout}
	var lastErr error
	for _, r := range s.cfg.Recursors {
		resp, _, err := client.Exchange(req, r)
		if err == nil {
			resp.Id = req.Id
			return resp
		}
		lastErr = err
	}
	s.cfg.Logger.Warn("dns: no recursor answered", "name", req.Question[0].Name, "error", lastErr)
	return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
}

func isUDP(w dns.ResponseWriter) bool {
	_, ok := w.RemoteAddr().(*net.UDPAddr)
	return ok
}

func shuffle(s []structs.ServiceRegistration) {
	rand.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}
