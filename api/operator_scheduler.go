package api

import (
	"net/http"
	"strconv"

	"github.com/drover-project/drover/structs"
)

// SchedulerGetConfiguration reads the cluster's scheduler configuration.
func (o *Operator) SchedulerGetConfiguration(q *QueryOptions) (*structs.SchedulerConfigurationResponse, error) {
	var out structs.SchedulerConfigurationResponse
	if _, err := o.c.query("/v1/operator/scheduler/configuration", q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SchedulerSetConfiguration replaces the scheduler configuration.
func (o *Operator) SchedulerSetConfiguration(cfg *structs.SchedulerConfiguration) (*structs.SchedulerSetConfigurationResponse, error) {
	var out structs.SchedulerSetConfigurationResponse
	if _, err := o.c.write(http.MethodPut, "/v1/operator/scheduler/configuration", o.c.params(nil), cfg, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SchedulerCASConfiguration replaces the configuration only if its modify
// index is still index; Updated is false when it was not.
func (o *Operator) SchedulerCASConfiguration(cfg *structs.SchedulerConfiguration, index uint64) (*structs.SchedulerSetConfigurationResponse, error) {
	params := o.c.params(nil)
	params.Set("cas", strconv.FormatUint(index, 10))
	var out structs.SchedulerSetConfigurationResponse
	if _, err := o.c.write(http.MethodPut, "/v1/operator/scheduler/configuration", params, cfg, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
