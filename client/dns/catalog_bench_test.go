package dns

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/structs"
)

// BenchmarkQueriesRealCatalog is BenchmarkQueries against the node's real
// catalog holding 10,000 instances (3,334 services of three): the cost of
// finding one service's instances among them shows here.
//
//	go test -run '^$' -bench QueriesRealCatalog ./client/dns
func BenchmarkQueriesRealCatalog(b *testing.B) {
	cat, err := catalog.New(catalog.Config{NodeID: "n1", Datacenter: "dc1"})
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	for k := range 10000 {
		err := cat.Register(&structs.ServiceRegistration{ID: fmt.Sprintf("inst-%d", k), ServiceName: fmt.Sprintf("svc-%d", k/3),
			Address: fmt.Sprintf("10.0.%d.%d", k/250, k%250+1), Port: 8000})
		if err != nil {
			b.Fatal(err)
		}
	}
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
		m := new(dns.Msg).SetQuestion("svc-7.service.drover.", dns.TypeA)
		for pb.Next() {
			resp, _, err := client.ExchangeWithConn(m, conn)
			if err != nil || len(resp.Answer) != 3 {
				b.Errorf("query: %v, %v", err, resp)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}
