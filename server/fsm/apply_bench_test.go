package fsm

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/benchjob"
)

// benchRegistration returns the JobRegister entry of job number i of the
// job bench/cluster registers, as the endpoint proposes it: the figures of
// issue 3 depend on how fast every server applies its registration.
func benchRegistration(tb testing.TB, i int) []byte {
	tb.Helper()
	job, eval, err := benchjob.Registration(i)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := Encode(JobRegister, &JobRegisterRequest{Job: job, Eval: eval})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkApplyJobRegister applies registrations of new jobs, one entry
// per iteration, to a store that grows as in a long run of the bench.
func BenchmarkApplyJobRegister(b *testing.B) {
	f := New(nil)
	entries := make([][]byte, b.N)
	for i := range entries {
		entries[i] = benchRegistration(b, i)
	}
	runtime.GC() // not the garbage of making the input
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if res, ok := f.Apply(&raft.Log{Index: uint64(i + 1), Data: entries[i]}).(error); ok {
			b.Fatal(res)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDecodeJobRegister is the decoding part of that apply alone.
func BenchmarkDecodeJobRegister(b *testing.B) {
	entry := benchRegistration(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode[JobRegisterRequest](JobRegister, entry[1:]); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the CPU time the process used so far (user and system, every
// thread, the garbage collector's too). On a machine shared with other
// work it measures the cost of an operation better than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
