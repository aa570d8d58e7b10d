package scheduler

import (
	"fmt"

	"github.com/drover-project/drover/structs"
)

// ConfigState is implemented by a State that knows the cluster's scheduler
// configuration (algorithm, preemption, memory oversubscription). A State
// without it is planned against the defaults.
type ConfigState interface {
	SchedulerConfig() (*structs.SchedulerConfiguration, error)
}

// schedulerConfig reads the configuration, or the defaults.
func schedulerConfig(state State) (*structs.SchedulerConfiguration, error) {
	cs, ok := state.(ConfigState)
	if !ok {
		return structs.DefaultSchedulerConfiguration(), nil
	}
	cfg, err := cs.SchedulerConfig()
	if err != nil {
		return nil, fmt.Errorf("read scheduler configuration: %w", err)
	}
	if cfg == nil {
		return structs.DefaultSchedulerConfiguration(), nil
	}
	return cfg, nil
}
