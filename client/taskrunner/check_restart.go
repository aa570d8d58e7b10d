package taskrunner

import (
	"context"
	"fmt"

	"github.com/drover-project/drover/client/driver"
)

// TaskRestartSignal is the event of a restart asked for by a check, as
// Nomad names it.
const TaskRestartSignal = "Restart Signaled"

// RestartUnhealthy restarts the task because a check with check_restart
// stayed unhealthy (liveness): it records why, then restarts the task as
// Restart does, outside the restart policy's count, as Nomad does.
func (tr *TaskRunner) RestartUnhealthy(reason string) error {
	ev := newEvent(tr.clock.Now(), TaskRestartSignal, "healthcheck: "+reason)
	ev.RestartReason = "healthcheck: " + reason
	tr.emit(ev)
	return tr.Restart()
}

// HealthDriver is a driver that reports the health a task's image
// declares (the docker driver: its HEALTHCHECK).
type HealthDriver interface {
	TaskHealth(ctx context.Context, h *driver.TaskHandle) (status, output string, err error)
}

// ImageHealth reports the health the running task's image declares, for
// checks of type "docker".
func (tr *TaskRunner) ImageHealth(ctx context.Context) (status, output string, err error) {
	h, err := tr.runningHandle()
	if err != nil {
		return "", "", err
	}
	hd, ok := tr.driver.(HealthDriver)
	if !ok {
		return "", "", fmt.Errorf("image health: %w", ErrNotSupported)
	}
	return hd.TaskHealth(ctx, h)
}
