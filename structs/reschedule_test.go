package structs

import (
	"testing"
	"time"
)

func TestNextDelay(t *testing.T) {
	s := time.Second
	cases := []struct {
		fn   string
		max  time.Duration
		want []time.Duration
	}{
		{DelayFunctionConstant, 0, []time.Duration{5 * s, 5 * s, 5 * s, 5 * s}},
		{DelayFunctionExponential, 30 * s, []time.Duration{5 * s, 10 * s, 20 * s, 30 * s, 30 * s}},
		{DelayFunctionFibonacci, 40 * s, []time.Duration{5 * s, 5 * s, 10 * s, 15 * s, 25 * s, 40 * s, 40 * s}},
	}
	for _, c := range cases {
		p := &ReschedulePolicy{Delay: 5 * s, DelayFunction: c.fn, MaxDelay: c.max}
		for n, want := range c.want {
			if got := p.NextDelay(n); got != want {
				t.Errorf("%s: delay after %d = %s, want %s", c.fn, n, got, want)
			}
		}
	}
}

func TestDefaultReschedulePolicies(t *testing.T) {
	svc := DefaultReschedulePolicy(JobTypeService)
	if !svc.Unlimited || svc.Delay != 30*time.Second || svc.DelayFunction != "exponential" || svc.MaxDelay != time.Hour {
		t.Errorf("service default = %+v", svc)
	}
	batch := DefaultReschedulePolicy(JobTypeBatch)
	if batch.Attempts != 1 || batch.Interval != 24*time.Hour || batch.Delay != 5*time.Second || batch.DelayFunction != "constant" {
		t.Errorf("batch default = %+v", batch)
	}
	if DefaultReschedulePolicy(JobTypeSystem) != nil {
		t.Error("system jobs have a reschedule policy")
	}
	if err := (&ReschedulePolicy{DelayFunction: "linear"}).Validate(); err == nil {
		t.Error("an unknown delay function validated")
	}
}
