package agent

import (
	"fmt"
	"time"

	"github.com/drover-project/drover/client"
)

// ClientGCConfig is the client's garbage collection policy of terminal
// allocations: `client { gc_interval = "1m", gc_max_allocs = 50,
// gc_disk_usage_threshold = 80 }`, Nomad's names and defaults (zero
// values take the defaults; see client.GCConfig).
type ClientGCConfig struct {
	Interval           time.Duration
	MaxAllocs          int
	DiskUsageThreshold float64
}

func (g ClientGCConfig) client() client.GCConfig {
	return client.GCConfig{Interval: g.Interval, MaxAllocs: g.MaxAllocs, DiskUsageThreshold: g.DiskUsageThreshold}
}

// mergeClientGC applies a client block's gc_* attributes.
func (c *Config) mergeClientGC(f *fileClient) error {
	if f.GCInterval != nil {
		d, err := time.ParseDuration(*f.GCInterval)
		if err != nil || d <= 0 {
			return fmt.Errorf("client.gc_interval: %q is not a positive duration", *f.GCInterval)
		}
		c.Client.GC.Interval = d
	}
	if f.GCMaxAllocs != nil {
		if *f.GCMaxAllocs <= 0 {
			return fmt.Errorf("client.gc_max_allocs: must be positive, got %d", *f.GCMaxAllocs)
		}
		c.Client.GC.MaxAllocs = *f.GCMaxAllocs
	}
	if f.GCDiskUsageThreshold != nil {
		if v := *f.GCDiskUsageThreshold; v <= 0 || v > 100 {
			return fmt.Errorf("client.gc_disk_usage_threshold: must be a percentage in (0, 100], got %v", v)
		}
		c.Client.GC.DiskUsageThreshold = *f.GCDiskUsageThreshold
	}
	return nil
}
