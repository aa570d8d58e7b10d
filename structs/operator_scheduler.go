package structs

import "fmt"

// Scheduler algorithms.
const (
	SchedulerAlgorithmBinpack = "binpack"
	SchedulerAlgorithmSpread  = "spread"
)

// SchedulerConfiguration is the cluster-wide scheduler configuration, kept
// in Raft and changed with `drover operator scheduler set-config`.
type SchedulerConfiguration struct {
	// SchedulerAlgorithm is "binpack" (fill nodes up, the default) or
	// "spread" (prefer the emptiest nodes).
	SchedulerAlgorithm string
	// PreemptionConfig says which job types may evict lower-priority
	// allocations to make room.
	PreemptionConfig PreemptionConfig
	// MemoryOversubscriptionEnabled lets tasks use memory_max above their
	// reserved memory; when off, memory_max is ignored.
	MemoryOversubscriptionEnabled bool
	// RejectJobRegistration refuses new jobs and job updates.
	RejectJobRegistration bool
	// PauseEvalBroker is kept for Nomad's shape; drover does not pause.
	PauseEvalBroker bool

	CreateIndex uint64
	ModifyIndex uint64
}

// PreemptionConfig enables preemption per job type.
type PreemptionConfig struct {
	SystemSchedulerEnabled   bool
	SysBatchSchedulerEnabled bool
	BatchSchedulerEnabled    bool
	ServiceSchedulerEnabled  bool
}

// DefaultSchedulerConfiguration is the configuration of a cluster nobody
// configured, as Nomad's: bin packing, preemption for system jobs only.
func DefaultSchedulerConfiguration() *SchedulerConfiguration {
	return &SchedulerConfiguration{
		SchedulerAlgorithm: SchedulerAlgorithmBinpack,
		PreemptionConfig:   PreemptionConfig{SystemSchedulerEnabled: true},
	}
}

// Canonicalize gives an empty algorithm the default.
func (c *SchedulerConfiguration) Canonicalize() {
	if c.SchedulerAlgorithm == "" {
		c.SchedulerAlgorithm = SchedulerAlgorithmBinpack
	}
}

// Validate checks the algorithm.
func (c *SchedulerConfiguration) Validate() error {
	switch c.SchedulerAlgorithm {
	case SchedulerAlgorithmBinpack, SchedulerAlgorithmSpread:
		return nil
	}
	return fmt.Errorf("invalid scheduler algorithm %q: want %q or %q", c.SchedulerAlgorithm, SchedulerAlgorithmBinpack, SchedulerAlgorithmSpread)
}

// PreemptionEnabled reports whether jobs of the type may preempt.
func (c *SchedulerConfiguration) PreemptionEnabled(jobType string) bool {
	switch jobType {
	case JobTypeSystem:
		return c.PreemptionConfig.SystemSchedulerEnabled
	case JobTypeSysBatch:
		return c.PreemptionConfig.SysBatchSchedulerEnabled
	case JobTypeBatch:
		return c.PreemptionConfig.BatchSchedulerEnabled
	case JobTypeService:
		return c.PreemptionConfig.ServiceSchedulerEnabled
	}
	return false
}

// Copy returns a copy.
func (c *SchedulerConfiguration) Copy() *SchedulerConfiguration {
	if c == nil {
		return nil
	}
	x := *c
	return &x
}

// SchedulerConfigurationResponse answers GET /v1/operator/scheduler/configuration.
type SchedulerConfigurationResponse struct {
	SchedulerConfig *SchedulerConfiguration
	Index           uint64
	LastContact     int64
	KnownLeader     bool
}

// SchedulerSetConfigurationResponse answers PUT on the same path. Updated
// is false when a check-and-set index did not match.
type SchedulerSetConfigurationResponse struct {
	Updated bool
	Index   uint64
}
