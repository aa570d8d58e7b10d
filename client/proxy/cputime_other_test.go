//go:build !unix

package proxy

import "time"

// processCPUTime is not measured here: cpu-ns/op reads 0.
func processCPUTime() time.Duration { return 0 }
