package http

import (
	"context"
	"errors"
	"net/http"

	"github.com/drover-project/drover/structs"
)

// GarbageCollector is what PUT /v1/system/gc needs of the servers.
type GarbageCollector interface {
	SystemGC(ctx context.Context) error
}

// registerSystemGC adds PUT /v1/system/gc.
func (a *api) registerSystemGC(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/system/gc", a.write(a.systemGC))
	mux.HandleFunc("POST /v1/system/gc", a.write(a.systemGC))
}

// systemGC collects finished evaluations, allocations and jobs at once,
// whatever their age; it answers an empty body, as Nomad's.
func (a *api) systemGC(r *http.Request, _ *structs.QueryOptions) (any, uint64, error) {
	gc, ok := a.Server.(GarbageCollector)
	if !ok {
		return nil, 0, errors.New("this server cannot collect garbage")
	}
	if err := gc.SystemGC(r.Context()); err != nil {
		return nil, 0, err
	}
	return nil, 0, nil
}
