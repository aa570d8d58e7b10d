package http

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/drover-project/drover/structs"
)

// SchedulerConfigurer is the part of the Server that keeps the scheduler
// configuration. It is optional: a Server without it answers these routes
// with an error.
type SchedulerConfigurer interface {
	SchedulerGetConfig(ctx context.Context, q *structs.QueryOptions) (*structs.SchedulerConfiguration, structs.QueryMeta, error)
	SchedulerSetConfig(ctx context.Context, cfg *structs.SchedulerConfiguration, cas bool, casIndex uint64) (bool, uint64, error)
}

var errNoSchedulerConfig = errors.New("this server has no scheduler configuration")

// registerSchedulerConfig adds GET, PUT and POST
// /v1/operator/scheduler/configuration.
func (a *api) registerSchedulerConfig(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/operator/scheduler/configuration", a.read(a.schedulerGetConfig))
	mux.HandleFunc("PUT /v1/operator/scheduler/configuration", a.write(a.schedulerSetConfig))
	mux.HandleFunc("POST /v1/operator/scheduler/configuration", a.write(a.schedulerSetConfig))
}

func (a *api) schedulerConfigurer() (SchedulerConfigurer, error) {
	s, ok := a.Server.(SchedulerConfigurer)
	if !ok {
		return nil, errNoSchedulerConfig
	}
	return s, nil
}

// schedulerGetConfig answers with Nomad's {"SchedulerConfig": {...}, "Index": N, ...}.
func (a *api) schedulerGetConfig(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	s, err := a.schedulerConfigurer()
	if err != nil {
		return nil, structs.QueryMeta{}, err
	}
	cfg, meta, err := s.SchedulerGetConfig(r.Context(), q)
	if err != nil {
		return nil, meta, err
	}
	return &structs.SchedulerConfigurationResponse{SchedulerConfig: cfg, Index: meta.Index,
		LastContact: meta.LastContact.Milliseconds(), KnownLeader: meta.KnownLeader}, meta, nil
}

// schedulerSetConfig takes a SchedulerConfiguration body; ?cas=N sets it
// only if its modify index is still N, and answers {"Updated": false}
// when it is not.
func (a *api) schedulerSetConfig(r *http.Request, _ *structs.QueryOptions) (any, uint64, error) {
	s, err := a.schedulerConfigurer()
	if err != nil {
		return nil, 0, err
	}
	var cfg structs.SchedulerConfiguration
	if err := decodeBody(r, &cfg); err != nil {
		return nil, 0, err
	}
	var cas bool
	var casIndex uint64
	if v := r.URL.Query().Get("cas"); v != "" {
		if casIndex, err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, 0, badRequest("invalid cas %q: want an index", v)
		}
		cas = true
	}
	updated, index, err := s.SchedulerSetConfig(r.Context(), &cfg, cas, casIndex)
	if err != nil {
		return nil, 0, err
	}
	return &structs.SchedulerSetConfigurationResponse{Updated: updated, Index: index}, index, nil
}
