package api

import (
	"net/http"

	"github.com/drover-project/drover/structs"
)

// Services are the service registration endpoints.
type Services struct{ c *Client }

// Services returns the service registration endpoints.
func (c *Client) Services() *Services { return &Services{c} }

// List lists the services of the namespace (q.Namespace "*" for all),
// each with the union of its instances' tags.
func (s *Services) List(q *QueryOptions) ([]*structs.ServiceRegistrationListStub, *QueryMeta, error) {
	var out []*structs.ServiceRegistrationListStub
	meta, err := s.c.query("/v1/services", q, &out)
	if err != nil {
		return nil, nil, err
	}
	return out, meta, nil
}

// Get returns the instances of a service, healthy or not.
func (s *Services) Get(name string, q *QueryOptions) ([]*structs.ServiceRegistration, *QueryMeta, error) {
	var out []*structs.ServiceRegistration
	meta, err := s.c.query("/v1/service/"+escape(name), q, &out)
	if err != nil {
		return nil, nil, err
	}
	return out, meta, nil
}

// Delete removes one instance of a service.
func (s *Services) Delete(name, id string, q *QueryOptions) error {
	_, err := s.c.write(http.MethodDelete, "/v1/service/"+escape(name)+"/"+escape(id), s.c.params(q), nil, nil)
	return err
}
