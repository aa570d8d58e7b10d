package allocrunner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/taskrunner"
	"github.com/drover-project/drover/structs"
)

// Operations on a live allocation: restart, signal, exec and stats of its
// tasks. A task named that the allocation lacks is not found (404); a task
// that does not run is the caller's mistake (400).

// task returns the named task's runner.
func (ar *AllocRunner) task(name string) (*taskrunner.TaskRunner, error) {
	for _, tr := range ar.tasks {
		if tr.Name() == name {
			return tr, nil
		}
	}
	names := make([]string, len(ar.tasks))
	for i, tr := range ar.tasks {
		names[i] = tr.Name()
	}
	return nil, structs.NotFound(fmt.Errorf("task %q not found in allocation %s (its tasks: %s)",
		name, ar.ID(), strings.Join(names, ", ")))
}

// opError marks a task that cannot take the operation as a bad request.
func opError(err error) error {
	if errors.Is(err, taskrunner.ErrTaskNotRunning) || errors.Is(err, taskrunner.ErrNotSupported) {
		return structs.BadRequest(err)
	}
	return err
}

// Restart restarts the named task, or every running task when task is "".
func (ar *AllocRunner) Restart(task string) error {
	if task != "" {
		tr, err := ar.task(task)
		if err != nil {
			return err
		}
		return opError(tr.Restart())
	}
	restarted := 0
	for _, tr := range ar.tasks {
		if tr.State().State == structs.TaskStateRunning {
			if err := tr.Restart(); err != nil {
				return opError(err)
			}
			restarted++
		}
	}
	if restarted == 0 {
		return structs.BadRequest(fmt.Errorf("allocation %s has no running task to restart", ar.ID()))
	}
	return nil
}

// Signal sends sig to the named task, or to every running task when task is "".
func (ar *AllocRunner) Signal(ctx context.Context, task, sig string) error {
	if task != "" {
		tr, err := ar.task(task)
		if err != nil {
			return err
		}
		return opError(tr.Signal(ctx, sig))
	}
	signalled := 0
	for _, tr := range ar.tasks {
		if tr.State().State != structs.TaskStateRunning {
			continue
		}
		if err := tr.Signal(ctx, sig); err != nil {
			return opError(err)
		}
		signalled++
	}
	if signalled == 0 {
		return structs.BadRequest(fmt.Errorf("allocation %s has no running task to signal", ar.ID()))
	}
	return nil
}

// Exec runs a command in the named task.
func (ar *AllocRunner) Exec(ctx context.Context, task string, opts *driver.ExecOptions) (int, error) {
	tr, err := ar.task(task)
	if err != nil {
		return 0, err
	}
	code, err := tr.Exec(ctx, opts)
	return code, opError(err)
}

// Stats samples the named task, or every running task when task is "", and
// sums them. cpuMHzPerCore turns a share of a core into MHz (TotalTicks).
func (ar *AllocRunner) Stats(ctx context.Context, task string, cpuMHzPerCore float64) (*structs.AllocResourceUsage, error) {
	var trs []*taskrunner.TaskRunner
	if task != "" {
		tr, err := ar.task(task)
		if err != nil {
			return nil, err
		}
		trs = append(trs, tr)
	} else {
		for _, tr := range ar.tasks {
			if tr.State().State == structs.TaskStateRunning {
				trs = append(trs, tr)
			}
		}
	}
	type sample struct {
		name string
		u    *driver.TaskResourceUsage
		err  error
	}
	ch := make(chan sample, len(trs))
	for _, tr := range trs {
		go func() {
			u, err := tr.Stats(ctx)
			ch <- sample{tr.Name(), u, err}
		}()
	}
	out := &structs.AllocResourceUsage{ResourceUsage: &structs.ResourceUsage{}, Tasks: map[string]*structs.TaskResourceUsage{}}
	var errs []error
	for range trs {
		s := <-ch
		if s.err != nil {
			// A task that stopped meanwhile is left out of the sum.
			if task == "" && errors.Is(s.err, taskrunner.ErrTaskNotRunning) {
				continue
			}
			errs = append(errs, opError(s.err))
			continue
		}
		tu := taskUsage(s.u, cpuMHzPerCore)
		out.Tasks[s.name] = tu
		out.ResourceUsage.Add(tu.ResourceUsage)
		out.Timestamp = max(out.Timestamp, tu.Timestamp)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// taskUsage turns a driver's sample into Nomad's shape.
func taskUsage(u *driver.TaskResourceUsage, mhzPerCore float64) *structs.TaskResourceUsage {
	return &structs.TaskResourceUsage{
		Timestamp: u.Timestamp.UnixNano(),
		ResourceUsage: &structs.ResourceUsage{
			MemoryStats: &structs.MemoryStats{
				RSS: u.RSS, Cache: u.Cache, Swap: u.Swap, Usage: u.Usage, MaxUsage: u.MaxUsage,
				Measured: u.MemoryMeasured,
			},
			CpuStats: &structs.CpuStats{
				Percent:          u.Percent,
				UserMode:         u.UserMode,
				SystemMode:       u.SystemMode,
				TotalTicks:       u.Percent / 100 * mhzPerCore,
				ThrottledPeriods: u.ThrottledPeriods,
				ThrottledTime:    u.ThrottledTime,
				Measured:         append(u.CPUMeasured, "Total Ticks"),
			},
		},
	}
}
