package rpc

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"

	"github.com/drover-project/drover/structs"
)

// BenchmarkCall measures one round trip of a job-sized call over the
// pool's session on loopback, the cost a follower adds to a forwarded write.
func BenchmarkCall(b *testing.B) {
	m, err := Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		b.Fatal(err)
	}
	s := Serve(m, echo, logging.Discard())
	defer stop(s)
	p := NewPool()
	defer p.Close()
	job := &structs.Job{ID: "web", TaskGroups: []*structs.TaskGroup{{Name: "g", Tasks: []*structs.Task{{
		Name: "t", Driver: "docker", Config: map[string]any{"image": "x:1", "ports": []any{"http"}},
	}}}}}
	addr := m.Addr().String()
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if err := p.Call(context.Background(), addr, "Echo", job, &structs.Job{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.Call(context.Background(), addr, "Echo", job, &structs.Job{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// reportCPU adds the process's CPU time per call (user and system, both
// ends of the call) to the benchmark's figures, when the returned function
// runs: a round trip mostly waits, so ns/op says little about the work.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
