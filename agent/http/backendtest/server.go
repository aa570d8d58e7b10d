// Package backendtest has in-memory fakes of the interfaces the HTTP API
// depends on (agent/http's Server, Client and Agent), for tests of the API,
// of the Go client and of the CLI. Import it only from _test.go files.
package backendtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drover-project/drover/structs"
)

// Server is an in-memory control plane. Fill its exported fields before the
// first request; afterwards read what it recorded through its methods. It
// never blocks: every read answers at once with Index.
type Server struct {
	mu sync.Mutex

	Index  uint64
	Jobs   []*structs.Job
	Allocs []*structs.Allocation
	Evals  []*structs.Evaluation
	Nodes  []*structs.Node

	LeaderAddr string
	PeerAddrs  []string

	// OnRegister, when set, makes the evaluation a registration creates
	// (the fake stores it), so a test can script what the scheduler says.
	// Without it the evaluation is complete at once.
	OnRegister func(job *structs.Job) *structs.Evaluation
	// EvalStates queues successive states of evaluations by ID: each read
	// of the evaluation answers its stored state, then stores the first
	// state of the queue (and bumps Index), so a monitor sees it change.
	EvalStates map[string][]*structs.Evaluation

	registered   []*structs.JobRegisterRequest
	deregistered []Deregistration
	queries      []structs.QueryOptions
	nextID       int
}

// Deregistration records one JobDeregister call.
type Deregistration struct {
	Namespace, JobID string
	Purge            bool
}

// Registrations returns the register requests received so far.
func (s *Server) Registrations() []*structs.JobRegisterRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.registered)
}

// Deregistrations returns the deregister calls received so far.
func (s *Server) Deregistrations() []Deregistration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deregistered)
}

// LastQuery returns the query options of the latest read.
func (s *Server) LastQuery() structs.QueryOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) == 0 {
		return structs.QueryOptions{}
	}
	return s.queries[len(s.queries)-1]
}

// ID makes the n-th UUID-shaped ID the fake hands out; tests use it to
// predict IDs.
func ID(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", 0xe0000000+n, n)
}

func (s *Server) newID() string {
	s.nextID++
	return ID(s.nextID)
}

// meta records q and answers the current index.
func (s *Server) meta(q *structs.QueryOptions) structs.QueryMeta {
	if q != nil {
		s.queries = append(s.queries, *q)
	}
	return structs.QueryMeta{Index: s.Index, KnownLeader: s.LeaderAddr != ""}
}

func notFound(kind, id string) error {
	return structs.NotFound(fmt.Errorf("%s %q not found", kind, id))
}

func (s *Server) JobRegister(ctx context.Context, req *structs.JobRegisterRequest) (*structs.JobRegisterResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registered = append(s.registered, req)
	job := req.Job.Copy()
	s.Index++
	if i := slices.IndexFunc(s.Jobs, func(j *structs.Job) bool { return j.ID == job.ID }); i >= 0 {
		job.Version = s.Jobs[i].Version + 1
		job.CreateIndex = s.Jobs[i].CreateIndex
		s.Jobs[i] = job
	} else {
		job.CreateIndex = s.Index
		s.Jobs = append(s.Jobs, job)
	}
	job.ModifyIndex, job.JobModifyIndex = s.Index, s.Index
	eval := s.evalFor(job, structs.EvalTriggerJobRegister)
	return &structs.JobRegisterResponse{EvalID: eval.ID, EvalCreateIndex: s.Index, JobModifyIndex: s.Index, Index: s.Index}, nil
}

// evalFor stores the evaluation a change of job creates.
func (s *Server) evalFor(job *structs.Job, trigger string) *structs.Evaluation {
	var eval *structs.Evaluation
	if s.OnRegister != nil && trigger == structs.EvalTriggerJobRegister {
		eval = s.OnRegister(job)
	}
	if eval == nil {
		eval = &structs.Evaluation{Status: structs.EvalStatusComplete}
	}
	if eval.ID == "" {
		eval.ID = s.newID()
	}
	eval.JobID, eval.TriggeredBy, eval.Namespace = job.ID, trigger, job.Namespace
	eval.CreateIndex, eval.ModifyIndex = s.Index, s.Index
	s.Evals = append(s.Evals, eval)
	return eval
}

func (s *Server) JobDeregister(ctx context.Context, namespace, jobID string, purge bool) (*structs.JobDeregisterResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deregistered = append(s.deregistered, Deregistration{Namespace: namespace, JobID: jobID, Purge: purge})
	i := slices.IndexFunc(s.Jobs, func(j *structs.Job) bool { return j.ID == jobID })
	if i < 0 {
		return nil, notFound("job", jobID)
	}
	s.Index++
	job := s.Jobs[i]
	if purge {
		s.Jobs = slices.Delete(s.Jobs, i, i+1)
	} else {
		job = job.Copy()
		job.Stop = true
		s.Jobs[i] = job
	}
	eval := s.evalFor(job, structs.EvalTriggerJobDeregister)
	return &structs.JobDeregisterResponse{EvalID: eval.ID, EvalCreateIndex: s.Index, JobModifyIndex: s.Index, Index: s.Index}, nil
}

func (s *Server) JobList(ctx context.Context, q *structs.QueryOptions) ([]*structs.JobListStub, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*structs.JobListStub
	for _, j := range s.Jobs {
		if strings.HasPrefix(j.ID, q.Prefix) {
			out = append(out, j.Stub(s.summary(j)))
		}
	}
	return out, s.meta(q), nil
}

func (s *Server) JobGet(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.Job, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := s.meta(q)
	for _, j := range s.Jobs {
		if j.ID == jobID {
			return j.Copy(), meta, nil
		}
	}
	return nil, meta, notFound("job", jobID)
}

func (s *Server) JobAllocations(ctx context.Context, q *structs.QueryOptions, jobID string, all bool) ([]*structs.AllocListStub, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*structs.AllocListStub
	for _, a := range s.Allocs {
		if a.JobID == jobID {
			out = append(out, a.Stub())
		}
	}
	return out, s.meta(q), nil
}

func (s *Server) JobEvaluations(ctx context.Context, q *structs.QueryOptions, jobID string) ([]*structs.Evaluation, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*structs.Evaluation
	for _, e := range s.Evals {
		if e.JobID == jobID {
			out = append(out, e.Copy())
		}
	}
	return out, s.meta(q), nil
}

func (s *Server) JobSummary(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.JobSummary, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := s.meta(q)
	for _, j := range s.Jobs {
		if j.ID == jobID {
			return s.summary(j), meta, nil
		}
	}
	return nil, meta, notFound("job", jobID)
}

// summary counts the job's allocations by group and client status.
func (s *Server) summary(job *structs.Job) *structs.JobSummary {
	sum := &structs.JobSummary{JobID: job.ID, Namespace: job.Namespace, Summary: map[string]structs.TaskGroupSummary{}}
	for _, tg := range job.TaskGroups {
		sum.Summary[tg.Name] = structs.TaskGroupSummary{}
	}
	for _, a := range s.Allocs {
		if a.JobID != job.ID {
			continue
		}
		tg := sum.Summary[a.TaskGroup]
		switch a.ClientStatus {
		case structs.AllocClientStatusPending:
			tg.Starting++
		case structs.AllocClientStatusRunning:
			tg.Running++
		case structs.AllocClientStatusComplete:
			tg.Complete++
		case structs.AllocClientStatusFailed:
			tg.Failed++
		case structs.AllocClientStatusLost:
			tg.Lost++
		case structs.AllocClientStatusUnknown:
			tg.Unknown++
		}
		sum.Summary[a.TaskGroup] = tg
	}
	return sum
}

func (s *Server) AllocList(ctx context.Context, q *structs.QueryOptions) ([]*structs.AllocListStub, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*structs.AllocListStub
	for _, a := range s.Allocs {
		if strings.HasPrefix(a.ID, q.Prefix) {
			out = append(out, a.Stub())
		}
	}
	return out, s.meta(q), nil
}

func (s *Server) AllocGet(ctx context.Context, q *structs.QueryOptions, allocID string) (*structs.Allocation, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := s.meta(q)
	for _, a := range s.Allocs {
		if a.ID == allocID {
			return a.Copy(), meta, nil
		}
	}
	return nil, meta, notFound("allocation", allocID)
}

func (s *Server) EvalList(ctx context.Context, q *structs.QueryOptions) ([]*structs.Evaluation, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*structs.Evaluation
	for _, e := range s.Evals {
		if strings.HasPrefix(e.ID, q.Prefix) {
			out = append(out, e.Copy())
		}
	}
	return out, s.meta(q), nil
}

func (s *Server) EvalGet(ctx context.Context, q *structs.QueryOptions, evalID string) (*structs.Evaluation, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.Evals, func(e *structs.Evaluation) bool { return e.ID == evalID })
	if i < 0 {
		return nil, s.meta(q), notFound("evaluation", evalID)
	}
	out, meta := s.Evals[i].Copy(), s.meta(q)
	if next := s.EvalStates[evalID]; len(next) > 0 {
		s.Index++
		s.Evals[i] = next[0]
		s.EvalStates[evalID] = next[1:]
	}
	return out, meta, nil
}

func (s *Server) NodeList(ctx context.Context, q *structs.QueryOptions) ([]*structs.NodeListStub, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*structs.NodeListStub
	for _, n := range s.Nodes {
		if strings.HasPrefix(n.ID, q.Prefix) {
			out = append(out, n.Stub())
		}
	}
	return out, s.meta(q), nil
}

func (s *Server) NodeGet(ctx context.Context, q *structs.QueryOptions, nodeID string) (*structs.Node, structs.QueryMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := s.meta(q)
	for _, n := range s.Nodes {
		if n.ID == nodeID {
			return n.Copy(), meta, nil
		}
	}
	return nil, meta, notFound("node", nodeID)
}

func (s *Server) Leader() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.LeaderAddr
}

func (s *Server) Peers() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.PeerAddrs), nil
}
