package http

import (
	"context"
	"io"

	"github.com/drover-project/drover/structs"
)

// Server is what the HTTP API needs of the control plane. server/endpoints
// implements it; tests may use a fake. Errors wrapping structs.ErrNotFound
// answer 404 and those wrapping structs.ErrBadRequest answer 400.
type Server interface {
	JobRegister(ctx context.Context, req *structs.JobRegisterRequest) (*structs.JobRegisterResponse, error)
	JobDeregister(ctx context.Context, namespace, jobID string, purge bool) (*structs.JobDeregisterResponse, error)
	JobList(ctx context.Context, q *structs.QueryOptions) ([]*structs.JobListStub, structs.QueryMeta, error)
	JobGet(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.Job, structs.QueryMeta, error)
	JobAllocations(ctx context.Context, q *structs.QueryOptions, jobID string, all bool) ([]*structs.AllocListStub, structs.QueryMeta, error)
	JobEvaluations(ctx context.Context, q *structs.QueryOptions, jobID string) ([]*structs.Evaluation, structs.QueryMeta, error)
	JobSummary(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.JobSummary, structs.QueryMeta, error)

	AllocList(ctx context.Context, q *structs.QueryOptions) ([]*structs.AllocListStub, structs.QueryMeta, error)
	AllocGet(ctx context.Context, q *structs.QueryOptions, allocID string) (*structs.Allocation, structs.QueryMeta, error)

	EvalList(ctx context.Context, q *structs.QueryOptions) ([]*structs.Evaluation, structs.QueryMeta, error)
	EvalGet(ctx context.Context, q *structs.QueryOptions, evalID string) (*structs.Evaluation, structs.QueryMeta, error)

	NodeList(ctx context.Context, q *structs.QueryOptions) ([]*structs.NodeListStub, structs.QueryMeta, error)
	NodeGet(ctx context.Context, q *structs.QueryOptions, nodeID string) (*structs.Node, structs.QueryMeta, error)

	// Leader is the leader's RPC address ("" when there is none).
	Leader() string
	// Peers are the RPC addresses of the Raft voters.
	Peers() ([]string, error)
}

// Client is what the HTTP API needs of the local client, for the
// /v1/client/ routes. It is nil on an agent that runs no client.
type Client interface {
	// LogReader opens one task's log of the given type ("stdout" or "stderr")
	// of an allocation that runs on this client.
	LogReader(allocID, task, logType string) (LogReader, error)
}

// LogReader reads a task's log as one growing byte stream, even where the
// client rotates it over several files.
type LogReader interface {
	// Size is the current length of the stream.
	Size() (int64, error)
	// ReadAt reads from the stream at an absolute offset.
	io.ReaderAt
	// Wait blocks until the stream grows past size, the task finishes for
	// good (io.EOF), or ctx ends.
	Wait(ctx context.Context, size int64) error
	Close() error
}

// Agent describes the running agent for /v1/agent/self.
type Agent interface {
	Self() map[string]any
}
