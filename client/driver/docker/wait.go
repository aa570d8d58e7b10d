package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Timings of the lifecycle calls.
const (
	// defaultKillTimeout is used when StopTask is given no timeout and the
	// task none either; it is Nomad's default kill_timeout.
	defaultKillTimeout = 5 * time.Second
	// killWait bounds the wait for a container to die after SIGKILL.
	killWait = 10 * time.Second
	// logDrainTimeout bounds how long WaitTask waits for the last output
	// of a stopped container to reach the log files.
	logDrainTimeout = 5 * time.Second
	// retryInterval paces retries while the engine cannot be reached.
	retryInterval = time.Second
)

// WaitTask implements driver.Driver. The result comes when the container
// is no longer running, after its output has been copied. If ctx ends
// first, the result carries ctx's error. Losing the connection to the
// engine is not an exit: the wait is resumed.
func (d *Driver) WaitTask(ctx context.Context, h *driver.TaskHandle) (<-chan *driver.ExitResult, error) {
	if h == nil || h.ContainerID == "" {
		return nil, errors.New("docker: wait: handle has no container ID")
	}
	ch := make(chan *driver.ExitResult, 1)
	go func() {
		defer close(ch)
		ch <- d.wait(ctx, h.ContainerID)
	}()
	return ch, nil
}

func (d *Driver) wait(ctx context.Context, id string) *driver.ExitResult {
	for {
		w := d.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		var waitErr error
		select {
		case <-w.Result:
		case waitErr = <-w.Error:
		}
		if waitErr == nil {
			break
		}
		if ctx.Err() != nil {
			return &driver.ExitResult{Err: ctx.Err()}
		}
		// The wait failed: the container may be gone, or stopped while the
		// engine restarted, or only the connection may be broken.
		state, err := d.inspectState(ctx, id)
		if cerrdefs.IsNotFound(err) {
			return &driver.ExitResult{Err: fmt.Errorf("container %s: %w", id, driver.ErrTaskNotFound)}
		}
		if err == nil && !state.Running {
			break
		}
		d.logger.Warn("waiting for container failed, retrying", "container", id, "error", waitErr)
		select {
		case <-ctx.Done():
			return &driver.ExitResult{Err: ctx.Err()}
		case <-time.After(retryInterval):
		}
	}

	d.waitCopier(ctx, id, logDrainTimeout)

	// The exit code is read from the container's state rather than the
	// wait response, which lacks the OOM flag and the time.
	for {
		state, err := d.inspectState(ctx, id)
		if err == nil {
			res := &driver.ExitResult{ExitCode: state.ExitCode, OOMKilled: state.OOMKilled}
			res.FinishedAt, _ = time.Parse(time.RFC3339Nano, state.FinishedAt)
			return res
		}
		if cerrdefs.IsNotFound(err) {
			// Removed right after it stopped (a destroy racing the wait).
			return &driver.ExitResult{Err: fmt.Errorf("container %s removed before its exit status was read: %w", id, driver.ErrTaskNotFound)}
		}
		select {
		case <-ctx.Done():
			return &driver.ExitResult{Err: ctx.Err()}
		case <-time.After(retryInterval):
		}
	}
}

// inspectState returns the container's state.
func (d *Driver) inspectState(ctx context.Context, id string) (*container.State, error) {
	res, err := d.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	if res.Container.State == nil {
		return nil, fmt.Errorf("container %s: engine returned no state", id)
	}
	return res.Container.State, nil
}

// StopTask implements driver.Driver: it sends signal (SIGTERM when empty),
// waits up to timeout for the container to exit, then sends SIGKILL. A
// timeout of 0 means the task's KillTimeout, or 5s when that is unset.
// Stopping a container that is not running, or no longer exists, succeeds.
//
// The driver signals and waits itself rather than using the engine's stop
// endpoint: that endpoint takes whole seconds, and API 1.41 engines ignore
// its signal parameter.
func (d *Driver) StopTask(ctx context.Context, h *driver.TaskHandle, timeout time.Duration, signal string) error {
	if h == nil || h.ContainerID == "" {
		return errors.New("docker: stop: handle has no container ID")
	}
	id := h.ContainerID
	if signal == "" {
		signal = "SIGTERM"
	}
	if timeout <= 0 && h.Config != nil {
		timeout = h.Config.KillTimeout
	}
	if timeout <= 0 {
		timeout = defaultKillTimeout
	}

	if stopped, err := d.kill(ctx, id, signal); err != nil || stopped {
		return err
	}
	if d.waitStopped(ctx, id, timeout) {
		return nil
	}
	d.logger.Info("task did not stop in time, killing", "container", id, "signal", signal, "timeout", timeout)
	if stopped, err := d.kill(ctx, id, "SIGKILL"); err != nil || stopped {
		return err
	}
	if !d.waitStopped(ctx, id, killWait) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("docker: container %s still running %s after SIGKILL", id, killWait)
	}
	return nil
}

// kill sends a signal. stopped reports that there was nothing to signal:
// the container is not running or does not exist.
func (d *Driver) kill(ctx context.Context, id, signal string) (stopped bool, err error) {
	_, err = d.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal})
	switch {
	case err == nil:
		return false, nil
	case cerrdefs.IsNotFound(err), cerrdefs.IsConflict(err): // conflict: "is not running"
		return true, nil
	default:
		return false, fmt.Errorf("docker: send %s to container %s: %w", signal, id, err)
	}
}

// waitStopped waits up to timeout for the container to stop running, and
// reports whether it did (a container that is gone has stopped).
func (d *Driver) waitStopped(ctx context.Context, id string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w := d.cli.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
		return true
	case <-w.Error:
		if ctx.Err() != nil {
			return false
		}
		state, err := d.inspectState(ctx, id)
		return cerrdefs.IsNotFound(err) || err == nil && !state.Running
	}
}

// DestroyTask implements driver.Driver: it removes the container (killing
// it first when force is set) and its anonymous volumes. A container that
// no longer exists is already destroyed.
func (d *Driver) DestroyTask(ctx context.Context, h *driver.TaskHandle, force bool) error {
	if h == nil || h.ContainerID == "" {
		return errors.New("docker: destroy: handle has no container ID")
	}
	_, err := d.cli.ContainerRemove(ctx, h.ContainerID, client.ContainerRemoveOptions{Force: force, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: remove container %s: %w", h.ContainerID, err)
	}
	// The removal ends the log stream; waiting for the copier makes sure
	// the files are closed when DestroyTask returns.
	d.stopCopier(h.ContainerID)
	return nil
}

// RecoverTask implements driver.Driver: it checks that the container still
// exists and resumes copying its output from where the previous process
// stopped. The container may have exited meanwhile; WaitTask then reports
// its exit at once. A container that no longer exists gives an error
// wrapping driver.ErrTaskNotFound.
func (d *Driver) RecoverTask(ctx context.Context, h *driver.TaskHandle) error {
	if h == nil || h.ContainerID == "" {
		return errors.New("docker: recover: handle has no container ID")
	}
	res, err := d.cli.ContainerInspect(ctx, h.ContainerID, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: container %s: %w", h.ContainerID, driver.ErrTaskNotFound)
	}
	if err != nil {
		return fmt.Errorf("docker: inspect container %s: %w", h.ContainerID, err)
	}
	if h.Config == nil {
		// Nothing says where the output goes; the task still runs.
		d.logger.Warn("recovered task has no config, not copying its output", "container", h.ContainerID)
		return nil
	}
	if res.Container.Config != nil && res.Container.Config.Labels[LabelAllocID] != h.Config.AllocID {
		return fmt.Errorf("docker: container %s belongs to alloc %q, not %q",
			h.ContainerID, res.Container.Config.Labels[LabelAllocID], h.Config.AllocID)
	}
	if err := d.recoverLogs(h.ContainerID, h.Config); err != nil {
		return fmt.Errorf("docker: recover task %q: %w", h.Config.TaskName, err)
	}
	return nil
}
