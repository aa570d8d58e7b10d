// Package structs holds drover's domain types: jobs, task groups, tasks,
// nodes, evaluations, allocations and plans. It imports only the standard
// library. JSON field names follow Nomad's HTTP API so that Nomad's own
// clients can talk to drover. Durations are encoded as integer nanoseconds
// and times of events as Unix nanoseconds, as Nomad does.
//
// Objects read from the state store must never be mutated: every aggregate
// has a Copy method that callers use before changing anything.
package structs
