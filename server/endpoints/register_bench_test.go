package endpoints

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// benchJob is the job bench/cluster registers, as its job file parses.
func benchJob(id string) *structs.Job {
	return &structs.Job{ID: id, Name: id, Datacenters: []string{"*"}, TaskGroups: []*structs.TaskGroup{{
		Name: "g", Count: 1, Tasks: []*structs.Task{{
			Name: "t", Driver: "docker", Config: map[string]any{"image": "drover-demo:v1"},
			Resources: &structs.Resources{CPU: 50, MemoryMB: 32},
		}},
	}}}
}

// registerLoop registers a new job through e on each iteration of b,
// from the decoded request to the answer.
func registerLoop(b *testing.B, e *Endpoints) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		req := &structs.JobRegisterRequest{Job: benchJob(fmt.Sprintf("bench-%07d", n))}
		req.Job.Region = structs.DefaultRegion
		if _, err := e.JobRegister(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// encodeOnlyLeader is a leader whose writes are encoded as Raft entries
// but never applied: the benchmarks measure what a registration costs
// outside the state machine (the reads after the apply find nothing).
func encodeOnlyLeader() *Endpoints {
	var index atomic.Uint64
	st, err := state.NewStateStore()
	if err != nil {
		panic(err)
	}
	return New(Deps{
		Apply: func(typ fsm.MessageType, req any) (uint64, error) {
			if _, err := fsm.Encode(typ, req); err != nil {
				return 0, err
			}
			return index.Add(1), nil
		},
		State:    func() *state.StateStore { return st },
		Leader:   func() string { return "self" },
		IsLeader: func() bool { return true },
		Region:   structs.DefaultRegion,
		Logger:   logging.Discard(),
	})
}

// BenchmarkJobRegister is one registration on the leader, from the
// decoded request to the answer.
func BenchmarkJobRegister(b *testing.B) {
	e := encodeOnlyLeader()
	registerLoop(b, e)
}

// BenchmarkJobRegisterApplied is BenchmarkJobRegister with the entries
// applied to a real state machine, as on a lone leader, so that the reads
// after the apply find what it stored. It counts the apply too.
func BenchmarkJobRegisterApplied(b *testing.B) {
	e, _ := localServer(b)
	registerLoop(b, e)
}

// BenchmarkForwardedJobRegister is one registration received by a
// follower: forwarded over RPC on loopback to a leader that answers it.
// Both sides run in this process, so it counts the CPU of both.
func BenchmarkForwardedJobRegister(b *testing.B) {
	leader := encodeOnlyLeader()
	m, err := rpc.Listen("127.0.0.1:0", nil, logging.Discard())
	if err != nil {
		b.Fatal(err)
	}
	srv := rpc.Serve(m, leader, logging.Discard())
	defer m.Close()
	defer srv.Close()
	pool := rpc.NewPool()
	defer pool.Close()
	addr := m.Addr().String()
	follower := New(Deps{
		Leader:   func() string { return addr },
		IsLeader: func() bool { return false },
		Forward:  pool.Call,
		Region:   structs.DefaultRegion,
		Logger:   logging.Discard(),
	})
	cpu := processCPU()
	registerLoop(b, follower)
	// A round trip mostly waits, so ns/op says little about the work;
	// the process's CPU time per call does.
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time (user and system) this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
