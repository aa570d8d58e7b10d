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
	s, err := New(Config{Catalog: testCatalog, Addrs: []string{"127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	addr := s.Addrs()[0]
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		client := &dns.Client{Net: "udp"}
		conn, err := client.Dial(addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(dns.Msg).SetQuestion("api.service.drover.", dns.TypeA)
		for pb.Next() {
			resp, _, err := client.ExchangeWithConn(m, conn)
			if err != nil || len(resp.Answer) != 2 {
				b.Errorf("query: %v, %v", err, resp)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}
