package state

import (
	"encoding/json"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/drover-project/drover/internal/benchjob"
	"github.com/drover-project/drover/structs"
)

// benchRegistration returns job number i of the job bench/cluster
// registers, and its evaluation, as the FSM hands them over: decoded from
// JSON (so the task config holds float64s).
func benchRegistration(tb testing.TB, i int) (*structs.Job, *structs.Evaluation) {
	tb.Helper()
	job, eval, err := benchjob.Registration(i)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := json.Marshal(job)
	if err != nil {
		tb.Fatal(err)
	}
	var decoded structs.Job
	if err := json.Unmarshal(data, &decoded); err != nil {
		tb.Fatal(err)
	}
	return &decoded, eval
}

// BenchmarkUpsertJob registers new jobs, each with its evaluation, into a
// store that grows as in a long run of the bench.
func BenchmarkUpsertJob(b *testing.B) {
	s, err := NewStateStore()
	if err != nil {
		b.Fatal(err)
	}
	jobs := make([]*structs.Job, b.N)
	evals := make([]*structs.Evaluation, b.N)
	for i := range jobs {
		jobs[i], evals[i] = benchRegistration(b, i)
	}
	runtime.GC() // not the garbage of making the input
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := s.UpsertJob(uint64(i+1), jobs[i], evals[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
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
