package dns

import (
	"net"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/miekg/dns"

	"github.com/drover-project/drover/structs"
)

// fakeCatalog holds healthy instances only, as the real catalog's Healthy returns them.
type fakeCatalog []structs.ServiceRegistration

func (f fakeCatalog) Healthy(name, tag, dc string) []structs.ServiceRegistration {
	var out []structs.ServiceRegistration
	for _, r := range f {
		if r.ServiceName == name && (tag == "" || r.HasTag(tag)) && (dc == "" || r.Datacenter == dc) {
			out = append(out, r)
		}
	}
	return out
}

var testCatalog = fakeCatalog{
	{ID: "1", ServiceName: "api", Datacenter: "dc1", Address: "10.0.0.1", Port: 8001, Tags: []string{"v1"}},
	{ID: "2", ServiceName: "api", Datacenter: "dc1", Address: "10.0.0.2", Port: 8002, Tags: []string{"v2"}},
	{ID: "3", ServiceName: "api", Datacenter: "dc2", Address: "fd00::3", Port: 8003, Tags: []string{"v2"}},
	{ID: "4", ServiceName: "db", Datacenter: "dc1", Address: "10.0.0.4", Port: 5432},
}

func start(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Addrs = []string{"127.0.0.1:0"}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.Addrs()[0]
}

func query(t *testing.T, network, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	resp, _, err := (&dns.Client{Net: network}).Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return resp
}

// values returns the answers (or extras) as sorted strings of their data.
func values(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		case *dns.SRV:
			out = append(out, r.Target+":"+strconv.Itoa(int(r.Port)))
		}
	}
	sort.Strings(out)
	return out
}

func TestServiceRecords(t *testing.T) {
	addr := start(t, Config{Catalog: testCatalog})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			cases := []struct {
				name  string
				qtype uint16
				want  []string
			}{
				{"api.service.drover.", dns.TypeA, []string{"10.0.0.1", "10.0.0.2"}},
				{"API.Service.Drover.", dns.TypeA, []string{"10.0.0.1", "10.0.0.2"}},
				{"api.service.drover.", dns.TypeAAAA, []string{"fd00::3"}},
				{"api.service.dc1.drover.", dns.TypeA, []string{"10.0.0.1", "10.0.0.2"}},
				{"v2.api.service.drover.", dns.TypeA, []string{"10.0.0.2"}},
				{"v2.api.service.dc2.drover.", dns.TypeAAAA, []string{"fd00::3"}},
				{"_api._v1.service.drover.", dns.TypeA, []string{"10.0.0.1"}},
				{"db.service.drover.", dns.TypeSRV, []string{"0a000004.addr.drover.:5432"}},
				{"api.service.drover.", dns.TypeSRV, []string{"0a000001.addr.drover.:8001", "0a000002.addr.drover.:8002", "fd000000000000000000000000000003.addr.drover.:8003"}},
				{"0a000004.addr.drover.", dns.TypeA, []string{"10.0.0.4"}},
			}
			for _, c := range cases {
				resp := query(t, network, addr, c.name, c.qtype)
				if resp.Rcode != dns.RcodeSuccess || !resp.Authoritative {
					t.Fatalf("%s: rcode %s", c.name, dns.RcodeToString[resp.Rcode])
				}
				if got := values(resp.Answer); !slices.Equal(got, c.want) {
					t.Errorf("%s %s: got %v, want %v", c.name, dns.TypeToString[c.qtype], got, c.want)
				}
			}
			// SRV answers carry the targets' addresses.
			resp := query(t, network, addr, "api.service.drover.", dns.TypeSRV)
			if got := values(resp.Extra); !slices.Equal(got, []string{"10.0.0.1", "10.0.0.2", "fd00::3"}) {
				t.Errorf("SRV additional section: %v", got)
			}
		})
	}
}

func TestUnknownAndOutsideNames(t *testing.T) {
	addr := start(t, Config{Catalog: testCatalog})
	for _, name := range []string{"nope.service.drover.", "v9.api.service.drover.", "api.service.dc9.drover.", "a.b.c.service.drover.", "api.drover."} {
		if resp := query(t, "udp", addr, name, dns.TypeA); resp.Rcode != dns.RcodeNameError || len(resp.Ns) != 1 {
			t.Errorf("%s: rcode %s, authority %v; want NXDOMAIN with the SOA", name, dns.RcodeToString[resp.Rcode], resp.Ns)
		}
	}
	if resp := query(t, "tcp", addr, "example.com.", dns.TypeA); resp.Rcode != dns.RcodeRefused {
		t.Errorf("outside the domain without recursors: rcode %s, want REFUSED", dns.RcodeToString[resp.Rcode])
	}
}

func TestForwardsToRecursors(t *testing.T) {
	// The upstream is another server that answers the "example." zone.
	upstream := start(t, Config{Catalog: fakeCatalog{{ServiceName: "www", Address: "192.0.2.7"}}, Domain: "example"})
	dead := "127.0.0.1:1" // nothing listens: the next recursor is tried
	addr := start(t, Config{Catalog: testCatalog, Recursors: []string{dead, upstream}, RecursorTimeout: 500e6})
	for _, network := range []string{"udp", "tcp"} {
		resp := query(t, network, addr, "www.service.example.", dns.TypeA)
		if got := values(resp.Answer); resp.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{"192.0.2.7"}) {
			t.Errorf("%s forwarded: rcode %s, answers %v", network, dns.RcodeToString[resp.Rcode], got)
		}
	}
}

func TestAnswersInRandomOrder(t *testing.T) {
	var many fakeCatalog
	for i := range 8 {
		many = append(many, structs.ServiceRegistration{ServiceName: "web", Address: net.IPv4(10, 1, 0, byte(i)).String()})
	}
	addr := start(t, Config{Catalog: many})
	first := map[string]bool{}
	for range 50 {
		resp := query(t, "udp", addr, "web.service.drover.", dns.TypeA)
		if len(resp.Answer) != 8 {
			t.Fatalf("got %d answers, want 8", len(resp.Answer))
		}
		first[resp.Answer[0].(*dns.A).A.String()] = true
	}
	if len(first) < 2 {
		t.Fatalf("50 answers always started with the same address: %v", first)
	}
}
