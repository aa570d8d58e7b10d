package taskrunner

import (
	"fmt"
	"time"

	"github.com/drover-project/drover/structs"
)

// Reasons given in Restarting and Not Restarting events (Nomad's wording).
const (
	reasonWithinPolicy    = "Restart within policy"
	reasonDelay           = "Exceeded allowed attempts, applying a delay"
	reasonNoRestarts      = "Policy allows no restarts"
	reasonBatchSuccessful = "Restart unnecessary as task terminated successfully"
)

// restartTracker applies a group's restart policy, as Nomad does: at most
// Attempts restarts within each Interval, each Delay after the exit; past
// that, "fail" gives up and "delay" waits for the interval to end. A batch
// task that exits successfully is done; a service task that exits, even
// successfully, is restarted (and that restart counts).
type restartTracker struct {
	policy structs.RestartPolicy
	batch  bool
	// ephemeral marks a lifecycle task that is not a sidecar: it runs to
	// completion, so a successful exit ends it whatever the job type.
	ephemeral bool

	// count is the restarts in the interval that began at intervalStart.
	count         int
	intervalStart time.Time
}

// restartDecision is what to do after a task ended or failed to start.
type restartDecision struct {
	restart bool
	delay   time.Duration
	reason  string
	// failed is set when the task is dead for good because of the failure.
	failed bool
}

func newRestartTracker(policy *structs.RestartPolicy, jobType string) *restartTracker {
	if policy == nil {
		policy = structs.DefaultRestartPolicy(jobType)
	}
	batch := jobType == structs.JobTypeBatch || jobType == structs.JobTypeSysBatch
	return &restartTracker{policy: *policy, batch: batch}
}

// next decides after the task ended (successful: exit 0, no signal) or
// failed to start (successful false).
func (r *restartTracker) next(now time.Time, successful bool) restartDecision {
	if successful && (r.batch || r.ephemeral) {
		return restartDecision{reason: reasonBatchSuccessful}
	}
	if r.intervalStart.IsZero() || now.Sub(r.intervalStart) > r.policy.Interval {
		r.count = 0
		r.intervalStart = now
	}
	r.count++
	if r.count <= r.policy.Attempts {
		return restartDecision{restart: true, delay: r.policy.Delay, reason: reasonWithinPolicy}
	}
	if r.policy.Mode == structs.RestartModeDelay {
		// Wait out the interval; the next exit then starts a fresh one.
		wait := max(r.intervalStart.Add(r.policy.Interval).Sub(now), r.policy.Delay)
		return restartDecision{restart: true, delay: wait, reason: reasonDelay}
	}
	if r.policy.Attempts == 0 {
		return restartDecision{reason: reasonNoRestarts, failed: true}
	}
	return restartDecision{
		failed: true,
		reason: fmt.Sprintf("Exceeded allowed attempts %d in interval %v and mode is %q",
			r.policy.Attempts, r.policy.Interval, r.policy.Mode),
	}
}
