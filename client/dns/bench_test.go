package dns

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkQueries measures A queries per second over UDP against one
// server answering three instances, from as many clients as GOMAXPROCS:
//
//	go test -run '^$' -bench Queries ./client/dns
func BenchmarkQueries(b *testing.B) {
	benchQueries(b, testCatalog, "api.service.drover.", 2)
}

// benchQueries asks a server over cat for name's A records from
// GOMAXPROCS clients over UDP, each answer holding want records, and
// reports queries per second.
func benchQueries(b *testing.B, cat Catalog, name string, want int) {
	s, err := New(Config{Catalog: cat, Addrs: []string{"127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	addr := s.Addrs()[0]
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		client := &dns.Client{Net: "udp"}
		conn, err := client.Dial(addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(dns.Msg).SetQuestion(name, dns.TypeA)
		for pb.Next() {
			resp, _, err := client.ExchangeWithConn(m, conn)
			if err != nil || len(resp.Answer) != want {
				b.Errorf("query: %v, %v", err, resp)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}
