package taskrunner

import (
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestRestartTracker(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at         time.Duration // since t0
		successful bool
		want       restartDecision
	}
	policy := func(attempts int, interval time.Duration, mode string) *structs.RestartPolicy {
		return &structs.RestartPolicy{Attempts: attempts, Interval: interval, Delay: 15 * time.Second, Mode: mode}
	}
	within := restartDecision{restart: true, delay: 15 * time.Second, reason: reasonWithinPolicy}
	cases := []struct {
		name    string
		policy  *structs.RestartPolicy
		jobType string
		steps   []step
	}{
		{
			name: "batch success is not restarted", policy: policy(3, time.Hour, "fail"), jobType: structs.JobTypeBatch,
			steps: []step{{0, true, restartDecision{reason: reasonBatchSuccessful}}},
		},
		{
			name: "service success is restarted and counts", policy: policy(1, time.Hour, "fail"), jobType: structs.JobTypeService,
			steps: []step{
				{0, true, within},
				{time.Minute, true, restartDecision{failed: true, reason: `Exceeded allowed attempts 1 in interval 1h0m0s and mode is "fail"`}},
			},
		},
		{
			name: "fail mode gives up after attempts", policy: policy(2, time.Hour, "fail"), jobType: structs.JobTypeBatch,
			steps: []step{
				{0, false, within},
				{time.Minute, false, within},
				{2 * time.Minute, false, restartDecision{failed: true, reason: `Exceeded allowed attempts 2 in interval 1h0m0s and mode is "fail"`}},
			},
		},
		{
			name: "a new interval starts a new count", policy: policy(1, 10*time.Minute, "fail"), jobType: structs.JobTypeService,
			steps: []step{
				{0, false, within},
				{11 * time.Minute, false, within},
				{12 * time.Minute, false, restartDecision{failed: true, reason: `Exceeded allowed attempts 1 in interval 10m0s and mode is "fail"`}},
			},
		},
		{
			name: "no attempts allowed", policy: policy(0, time.Hour, "fail"), jobType: structs.JobTypeService,
			steps: []step{{0, false, restartDecision{failed: true, reason: reasonNoRestarts}}},
		},
		{
			name: "delay mode waits for the interval to end", policy: policy(1, 10*time.Minute, "delay"), jobType: structs.JobTypeService,
			steps: []step{
				{0, false, within},
				{time.Minute, false, restartDecision{restart: true, delay: 9 * time.Minute, reason: reasonDelay}},
				{10*time.Minute + time.Second, false, within},
			},
		},
		{
			name: "nil policy takes the job type's default", policy: nil, jobType: structs.JobTypeService,
			steps: []step{{0, false, within}, {0, false, within}, {0, false, restartDecision{failed: true,
				reason: `Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"`}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRestartTracker(c.policy, c.jobType)
			for i, s := range c.steps {
				if got := r.next(t0.Add(s.at), s.successful); got != s.want {
					t.Fatalf("step %d: got %+v, want %+v", i, got, s.want)
				}
			}
		})
	}
}
