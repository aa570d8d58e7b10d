package structs

// EvalTriggerPreemption is the trigger of the evaluation made for a job
// whose allocations were evicted by a higher-priority one.
const EvalTriggerPreemption = "preemption"

// PreemptionPriorityGap is how much higher a job's priority must be than
// another's for it to evict the other's allocations, as Nomad's.
const PreemptionPriorityGap = 10
