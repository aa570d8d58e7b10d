package dns

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/structs"
)

// The node's real catalog serves DNS: an instance that turns unhealthy
// leaves the answers, and returns when it passes again.
func TestAnswersFromTheCatalog(t *testing.T) {
	cat, err := catalog.New(catalog.Config{NodeID: "n1", Datacenter: "dc1"})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	for _, r := range []*structs.ServiceRegistration{
		{ID: "a", ServiceName: "api", Address: "10.0.0.1", Port: 80},
		{ID: "b", ServiceName: "api", Address: "10.0.0.2", Port: 80},
	} {
		if err := cat.Register(r); err != nil {
			t.Fatal(err)
		}
	}
	addr := start(t, Config{Catalog: cat})
	lookup := func() []string {
		return values(query(t, "udp", addr, "api.service.dc1.drover.", dns.TypeA).Answer)
	}
	if got := lookup(); len(got) != 2 {
		t.Fatalf("answers: %v", got)
	}
	if err := cat.SetHealth("a", false, []structs.ServiceCheckStatus{{Name: "http", Status: structs.CheckCritical}}); err != nil {
		t.Fatal(err)
	}
	if got := lookup(); len(got) != 1 || got[0] != "10.0.0.2" {
		t.Fatalf("with a unhealthy: %v", got)
	}
	if err := cat.SetHealth("a", true, nil); err != nil {
		t.Fatal(err)
	}
	if got := lookup(); len(got) != 2 {
		t.Fatalf("with a passing again: %v", got)
	}
	cat.Deregister("a")
	cat.Deregister("b")
	if resp := query(t, "udp", addr, "api.service.drover.", dns.TypeA); resp.Rcode != dns.RcodeNameError {
		t.Fatalf("without instances: %s", dns.RcodeToString[resp.Rcode])
	}
}
