package proxy

import (
	"net"
	"testing"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/structs"
)

// The node's real catalog feeds the proxy, and tells it when it changes.
func TestFollowsTheCatalog(t *testing.T) {
	var _ watcher = (*catalog.Catalog)(nil)
	cat, err := catalog.New(catalog.Config{NodeID: "n1", Datacenter: "dc1"})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	a, b := newBackend(t, "a"), newBackend(t, "b")
	register := func(id string, be *backend) {
		t.Helper()
		port := be.srv.Listener.Addr().(*net.TCPAddr).Port
		if err := cat.Register(&structs.ServiceRegistration{ID: id, ServiceName: "api", Address: "127.0.0.1", Port: port}); err != nil {
			t.Fatal(err)
		}
	}
	register("a", a)
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})
	if name, _, _ := get(t, "http://"+addr+"/"); name != "a" {
		t.Fatalf("answered by %q", name)
	}
	register("b", b)
	if err := cat.SetHealth("a", false, nil); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if name, _, _ := get(t, "http://"+addr+"/"); name != "b" {
			t.Fatalf("after a turned unhealthy and b appeared: answered by %q", name)
		}
	}
}
