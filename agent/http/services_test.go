package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/agent/http/backendtest"
	"github.com/drover-project/drover/structs"
)

// servicesServer adds service registrations to the fake server.
type servicesServer struct {
	*backendtest.Server
	deleted []string
}

func (s *servicesServer) ServiceList(ctx context.Context, q *structs.QueryOptions) ([]*structs.ServiceRegistrationListStub, structs.QueryMeta, error) {
	return []*structs.ServiceRegistrationListStub{{Namespace: q.Namespace, Services: []*structs.ServiceRegistrationStub{
		{ServiceName: "api", Tags: []string{"v1"}},
	}}}, structs.QueryMeta{Index: 9}, nil
}

func (s *servicesServer) ServiceGet(ctx context.Context, q *structs.QueryOptions, name string) ([]*structs.ServiceRegistration, structs.QueryMeta, error) {
	return []*structs.ServiceRegistration{{ID: "i1", ServiceName: name, Address: "10.0.0.1", Port: 20000, Health: structs.HealthPassing}},
		structs.QueryMeta{Index: 9}, nil
}

func (s *servicesServer) ServiceDelete(ctx context.Context, namespace, name, id string) (uint64, error) {
	if id != "i1" {
		return 0, structs.NotFound(fmt.Errorf("service %q has no instance %q", name, id))
	}
	s.deleted = append(s.deleted, namespace+"/"+name+"/"+id)
	return 10, nil
}

func TestServiceRoutes(t *testing.T) {
	srv := &servicesServer{Server: &backendtest.Server{Index: 7}}
	e := newEnv(t, func(c *agenthttp.Config) { c.Server = srv })

	resp, body := e.do(t, "GET", "/v1/services?namespace=*", "")
	var list []map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0]["Namespace"] != "*" ||
		resp.Header.Get("X-Nomad-Index") != "9" {
		t.Fatalf("GET /v1/services: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/v1/service/api", "")
	var regs []structs.ServiceRegistration
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &regs) != nil || len(regs) != 1 || regs[0].ServiceName != "api" || regs[0].Health != "passing" {
		t.Fatalf("GET /v1/service/api: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "DELETE", "/v1/service/api/i1", ""); resp.StatusCode != 200 || resp.Header.Get("X-Nomad-Index") != "10" {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, "DELETE", "/v1/service/api/nope", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of an unknown instance: %d", resp.StatusCode)
	}
	if len(srv.deleted) != 1 || srv.deleted[0] != "default/api/i1" {
		t.Errorf("deleted %v", srv.deleted)
	}

	// A server without registrations answers an error, not a panic.
	plain := newEnv(t)
	if resp, _ := plain.do(t, "GET", "/v1/services", ""); resp.StatusCode < 400 {
		t.Errorf("GET /v1/services without registrations: %d", resp.StatusCode)
	}
}
