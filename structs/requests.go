package structs

import "time"

// QueryOptions are the read options common to every list and get request.
type QueryOptions struct {
	Region    string
	Namespace string
	// MinQueryIndex makes a blocking query: answer once the data's index
	// passes it, or when MaxQueryTime runs out.
	MinQueryIndex uint64
	MaxQueryTime  time.Duration
	AllowStale    bool
	Prefix        string
}

// QueryMeta comes back with every read; the HTTP layer turns it into the
// X-Nomad-Index, X-Nomad-KnownLeader and X-Nomad-LastContact headers.
type QueryMeta struct {
	Index       uint64
	LastContact time.Duration
	KnownLeader bool
}

// JobRegisterRequest is the body of PUT /v1/jobs and /v1/job/:id.
type JobRegisterRequest struct {
	Job            *Job
	EnforceIndex   bool
	JobModifyIndex uint64
	PolicyOverride bool
	PreserveCounts bool
}

// JobRegisterResponse answers a job registration.
type JobRegisterResponse struct {
	EvalID          string
	EvalCreateIndex uint64
	JobModifyIndex  uint64
	Warnings        string
	Index           uint64 `json:"-"`
}

// JobDeregisterResponse answers DELETE /v1/job/:id.
type JobDeregisterResponse struct {
	EvalID          string
	EvalCreateIndex uint64
	JobModifyIndex  uint64
	Index           uint64 `json:"-"`
}

// JobsParseRequest is the body of POST /v1/jobs/parse.
type JobsParseRequest struct {
	JobHCL       string
	HCLv1        bool `json:"hclv1,omitempty"`
	Variables    string
	Canonicalize bool
}

// AllocUpdateRequest is what a client sends about its allocations.
type AllocUpdateRequest struct {
	Alloc []*Allocation
}

// NodeAllocsResponse answers a client's blocking query for its allocations.
type NodeAllocsResponse struct {
	Allocs []*Allocation
	Index  uint64
}
