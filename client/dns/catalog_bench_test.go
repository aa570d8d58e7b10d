package dns

import (
	"fmt"
	"testing"

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
	benchQueries(b, cat, "svc-7.service.drover.", 3)
}
