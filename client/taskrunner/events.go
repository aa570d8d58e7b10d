package taskrunner

import (
	"fmt"
	"strconv"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// The constructors below give each event Nomad's type and display message,
// so `nomad alloc status` reads the same against drover.

func newEvent(now time.Time, typ, display string) *structs.TaskEvent {
	return &structs.TaskEvent{Type: typ, Time: now.UnixNano(), DisplayMessage: display, Details: map[string]string{}}
}

func receivedEvent(now time.Time) *structs.TaskEvent {
	return newEvent(now, structs.TaskReceived, "Task received by client")
}

func setupEvent(now time.Time) *structs.TaskEvent {
	e := newEvent(now, structs.TaskSetup, "Building Task Directory")
	e.Message = "Building Task Directory"
	return e
}

func setupFailureEvent(now time.Time, err error) *structs.TaskEvent {
	e := newEvent(now, structs.TaskSetupFailure, err.Error())
	e.Details["setup_error"] = err.Error()
	e.FailsTask = true
	return e
}

func startedEvent(now time.Time) *structs.TaskEvent {
	return newEvent(now, structs.TaskStarted, "Task started by client")
}

func driverFailureEvent(now time.Time, err error) *structs.TaskEvent {
	e := newEvent(now, structs.TaskDriverFailure, err.Error())
	e.DriverError = err.Error()
	e.Details["driver_error"] = err.Error()
	return e
}

func terminatedEvent(now time.Time, res *driver.ExitResult) *structs.TaskEvent {
	e := newEvent(now, structs.TaskTerminated, "")
	e.ExitCode = res.ExitCode
	e.Signal = res.Signal
	e.Details["exit_code"] = strconv.Itoa(res.ExitCode)
	e.Details["signal"] = strconv.Itoa(res.Signal)
	e.DisplayMessage = fmt.Sprintf("Exit Code: %d", res.ExitCode)
	if res.Signal != 0 {
		e.DisplayMessage += fmt.Sprintf(", Signal: %d", res.Signal)
	}
	if res.OOMKilled {
		e.Details["oom_killed"] = "true"
		e.DisplayMessage += `, Exit Message: "OOM Killed"`
	}
	if res.Err != nil {
		e.Details["exit_message"] = res.Err.Error()
		e.DisplayMessage += fmt.Sprintf(", Exit Message: %q", res.Err.Error())
	}
	return e
}

func restartingEvent(now time.Time, d restartDecision) *structs.TaskEvent {
	e := newEvent(now, structs.TaskRestarting, fmt.Sprintf("Task restarting in %v", d.delay))
	e.RestartReason = d.reason
	e.StartDelay = int64(d.delay)
	e.Details["restart_reason"] = d.reason
	e.Details["start_delay"] = strconv.FormatInt(int64(d.delay), 10)
	return e
}

func notRestartingEvent(now time.Time, d restartDecision) *structs.TaskEvent {
	e := newEvent(now, structs.TaskNotRestarting, d.reason)
	e.RestartReason = d.reason
	e.Details["restart_reason"] = d.reason
	e.FailsTask = d.failed
	if d.failed {
		e.Details["fails_task"] = "true"
	}
	return e
}

func killingEvent(now time.Time, timeout time.Duration, reason string) *structs.TaskEvent {
	e := newEvent(now, structs.TaskKilling, fmt.Sprintf("Sent interrupt. Waiting %v before force killing", timeout))
	e.KillTimeout = timeout
	e.Details["kill_timeout"] = timeout.String()
	if reason != "" {
		e.Details["kill_reason"] = reason
	}
	return e
}

func killedEvent(now time.Time) *structs.TaskEvent {
	return newEvent(now, structs.TaskKilled, "Task successfully killed")
}
