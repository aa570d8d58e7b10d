package cluster

import (
	"fmt"
	"os"
	"runtime"
	"sync"
)

// Runner is a T for programs (the benchmarks) rather than tests: Fatalf
// ends the body's goroutine, and the cleanups run after it, in reverse, as
// in a test.
type Runner struct {
	name     string
	mu       sync.Mutex
	failed   bool
	cleanups []func()
}

// NewRunner returns a runner whose log lines start with name.
func NewRunner(name string) *Runner { return &Runner{name: name} }

// Run runs body, then the cleanups, and reports whether nothing failed.
func (r *Runner) Run(body func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		body()
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return !r.Failed()
}

func (r *Runner) Helper()      {}
func (r *Runner) Name() string { return r.name }

func (r *Runner) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, r.name+": "+format+"\n", args...)
}

func (r *Runner) Errorf(format string, args ...any) {
	r.Logf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

func (r *Runner) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// Skipf is a failure here: a benchmark that cannot run measured nothing.
func (r *Runner) Skipf(format string, args ...any) { r.Fatalf(format, args...) }

func (r *Runner) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *Runner) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}
