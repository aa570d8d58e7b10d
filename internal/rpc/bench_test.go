package rpc

import (
	"context"
	"testing"

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
		for b.Loop() {
			if err := p.Call(context.Background(), addr, "Echo", job, &structs.Job{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := p.Call(context.Background(), addr, "Echo", job, &structs.Job{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
