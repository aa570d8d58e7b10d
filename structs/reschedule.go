package structs

import (
	"errors"
	"fmt"
	"time"
)

// Reschedule delay functions, as Nomad's.
const (
	DelayFunctionConstant    = "constant"
	DelayFunctionExponential = "exponential"
	DelayFunctionFibonacci   = "fibonacci"
)

// ReschedulePolicy says how a failed allocation is placed again (on another
// node when one fits): up to Attempts times within Interval (or without
// limit when Unlimited), each after a delay that starts at Delay and grows
// by DelayFunction up to MaxDelay.
type ReschedulePolicy struct {
	Attempts      int
	Interval      time.Duration
	Delay         time.Duration
	DelayFunction string
	MaxDelay      time.Duration
	Unlimited     bool
}

// DefaultReschedulePolicy returns Nomad's defaults for a job type; nil for
// system and sysbatch jobs, which are not rescheduled but replaced on
// their node.
func DefaultReschedulePolicy(jobType string) *ReschedulePolicy {
	switch jobType {
	case JobTypeService:
		return &ReschedulePolicy{Delay: 30 * time.Second, DelayFunction: DelayFunctionExponential, MaxDelay: time.Hour, Unlimited: true}
	case JobTypeBatch:
		return &ReschedulePolicy{Attempts: 1, Interval: 24 * time.Hour, Delay: 5 * time.Second, DelayFunction: DelayFunctionConstant}
	}
	return nil
}

// Merge fills what p leaves unset from base. Attempts and Unlimited are
// taken as written once a reschedule block exists (0 and false are real
// settings), so the decoder fills their defaults itself.
func (p *ReschedulePolicy) Merge(base *ReschedulePolicy) *ReschedulePolicy {
	if p == nil {
		return base.Copy()
	}
	out := *p
	if base == nil {
		return &out
	}
	if out.Interval == 0 {
		out.Interval = base.Interval
	}
	if out.Delay == 0 {
		out.Delay = base.Delay
	}
	if out.DelayFunction == "" {
		out.DelayFunction = base.DelayFunction
	}
	if out.MaxDelay == 0 {
		out.MaxDelay = base.MaxDelay
	}
	return &out
}

// Validate checks the policy.
func (p *ReschedulePolicy) Validate() error {
	if p == nil {
		return nil
	}
	var errs []error
	switch p.DelayFunction {
	case DelayFunctionConstant, DelayFunctionExponential, DelayFunctionFibonacci:
	default:
		errs = append(errs, fmt.Errorf("reschedule: delay_function must be %q, %q or %q, got %q",
			DelayFunctionConstant, DelayFunctionExponential, DelayFunctionFibonacci, p.DelayFunction))
	}
	if p.Attempts < 0 || p.Interval < 0 || p.Delay < 0 || p.MaxDelay < 0 {
		errs = append(errs, errors.New("reschedule: attempts, interval, delay and max_delay must not be negative"))
	}
	if p.Unlimited && p.Attempts > 0 {
		errs = append(errs, errors.New("reschedule: attempts must be 0 when unlimited is true"))
	}
	if !p.Unlimited && p.Attempts > 0 && p.Interval == 0 {
		errs = append(errs, errors.New("reschedule: interval must be set with attempts"))
	}
	if p.DelayFunction != DelayFunctionConstant && p.MaxDelay > 0 && p.MaxDelay < p.Delay {
		errs = append(errs, fmt.Errorf("reschedule: max_delay %s is less than delay %s", p.MaxDelay, p.Delay))
	}
	return errors.Join(errs...)
}

// Enabled reports whether a failed allocation may be rescheduled at all.
func (p *ReschedulePolicy) Enabled() bool {
	return p != nil && (p.Unlimited || p.Attempts > 0)
}

// NextDelay is the delay before the reschedule that follows previous ones:
// Delay, then for exponential Delay·2^n, for fibonacci the sum of the two
// delays before, capped at MaxDelay.
func (p *ReschedulePolicy) NextDelay(previous int) time.Duration {
	d := p.Delay
	switch p.DelayFunction {
	case DelayFunctionExponential:
		for i := 0; i < previous && (p.MaxDelay == 0 || d < p.MaxDelay); i++ {
			d *= 2
		}
	case DelayFunctionFibonacci:
		a, b := p.Delay, p.Delay
		for i := 1; i < previous && (p.MaxDelay == 0 || b < p.MaxDelay); i++ {
			a, b = b, a+b
		}
		if previous > 0 {
			d = b
		}
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

// Copy returns a copy.
func (p *ReschedulePolicy) Copy() *ReschedulePolicy {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// RescheduleTracker is the history of reschedules behind an allocation,
// oldest first, as Nomad's.
type RescheduleTracker struct {
	Events []*RescheduleEvent
}

// RescheduleEvent is one reschedule: of which allocation, from which
// node, when, after what delay.
type RescheduleEvent struct {
	RescheduleTime int64
	PrevAllocID    string
	PrevNodeID     string
	Delay          time.Duration
}

// Copy returns a deep copy.
func (t *RescheduleTracker) Copy() *RescheduleTracker {
	if t == nil {
		return nil
	}
	c := &RescheduleTracker{Events: make([]*RescheduleEvent, len(t.Events))}
	for i, e := range t.Events {
		ev := *e
		c.Events[i] = &ev
	}
	return c
}
