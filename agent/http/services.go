package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/drover-project/drover/structs"
)

// Services is the part of the Server that keeps the service registrations
// clients report. It is optional: a Server without it answers these
// routes with an error.
type Services interface {
	ServiceList(ctx context.Context, q *structs.QueryOptions) ([]*structs.ServiceRegistrationListStub, structs.QueryMeta, error)
	ServiceGet(ctx context.Context, q *structs.QueryOptions, name string) ([]*structs.ServiceRegistration, structs.QueryMeta, error)
	ServiceDelete(ctx context.Context, namespace, name, id string) (uint64, error)
}

var errNoServices = errors.New("this server keeps no service registrations")

// registerServices adds GET /v1/services, GET /v1/service/:name and
// DELETE /v1/service/:name/:id, in Nomad's shapes.
func (a *api) registerServices(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/services", a.read(a.serviceList))
	mux.HandleFunc("GET /v1/service/{name}", a.read(a.serviceGet))
	mux.HandleFunc("DELETE /v1/service/{name}/{id}", a.write(a.serviceDelete))
}

func (a *api) services() (Services, error) {
	s, ok := a.Server.(Services)
	if !ok {
		return nil, errNoServices
	}
	return s, nil
}

// serviceList answers [{"Namespace": ..., "Services": [{"ServiceName", "Tags"}]}].
func (a *api) serviceList(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	s, err := a.services()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return s.ServiceList(r.Context(), q)
}

// serviceGet answers the instances of one service, healthy or not, each
// with drover's Health and Checks fields.
func (a *api) serviceGet(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	s, err := a.services()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	return s.ServiceGet(r.Context(), q, r.PathValue("name"))
}

// serviceDelete removes one instance; its client registers it again if
// it still runs.
func (a *api) serviceDelete(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	s, err := a.services()
	if err != nil {
		return nil, 0, err
	}
	index, err := s.ServiceDelete(r.Context(), q.Namespace, r.PathValue("name"), r.PathValue("id"))
	return nil, index, err
}
