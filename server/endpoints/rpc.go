package endpoints

import (
	"context"
	"fmt"
	"strings"

	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/structs"
)

// The RPC methods are the endpoint calls themselves. Remote clients call
// "Endpoints.<Method>" on any server, which forwards it like any request; a
// server forwarding a request calls "Forwarded.<Method>" on the leader,
// which answers it itself or fails: a forwarded call never travels on, so
// two servers that each think the other leads cannot pass it back and forth.
//
// A new endpoint that any server may receive needs two things: its first
// lines forward it (forwardRead for a list or get; e.forward for a write,
// with a reply type that keeps what its JSON leaves out, see IndexedReply),
// and an entry in rpcMethods below that decodes its arguments.

// JobDeregisterArgs are JobDeregister's arguments.
type JobDeregisterArgs struct {
	Namespace string
	JobID     string
	Purge     bool
}

// IndexedReply carries a write's answer with its Raft index, which the
// answer's JSON leaves out (the HTTP API sends it as a header).
type IndexedReply[T any] struct {
	Value *T
	Index uint64
}

// rpcMethod runs one call from its decoded arguments.
type rpcMethod func(ctx context.Context, e *Endpoints, args rpc.Args) (any, error)

// withArgs decodes the arguments into A before calling fn.
func withArgs[A any](fn func(ctx context.Context, e *Endpoints, a *A) (any, error)) rpcMethod {
	return func(ctx context.Context, e *Endpoints, args rpc.Args) (any, error) {
		var a A
		if err := args.Decode(&a); err != nil {
			return nil, err
		}
		return fn(ctx, e, &a)
	}
}

// read adapts a list or get endpoint.
func read[T any](fn func(e *Endpoints, ctx context.Context, a *ReadArgs) (T, structs.QueryMeta, error)) rpcMethod {
	return withArgs(func(ctx context.Context, e *Endpoints, a *ReadArgs) (any, error) {
		v, meta, err := fn(e, ctx, a)
		return &ReadReply[T]{Value: v, Meta: meta}, err
	})
}

var rpcMethods = map[string]rpcMethod{
	"JobRegister": withArgs(func(ctx context.Context, e *Endpoints, a *structs.JobRegisterRequest) (any, error) {
		r, err := e.JobRegister(ctx, a)
		if err != nil {
			return nil, err
		}
		return &IndexedReply[structs.JobRegisterResponse]{Value: r, Index: r.Index}, nil
	}),
	"JobDeregister": withArgs(func(ctx context.Context, e *Endpoints, a *JobDeregisterArgs) (any, error) {
		r, err := e.JobDeregister(ctx, a.Namespace, a.JobID, a.Purge)
		if err != nil {
			return nil, err
		}
		return &IndexedReply[structs.JobDeregisterResponse]{Value: r, Index: r.Index}, nil
	}),
	"JobList": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.JobListStub, structs.QueryMeta, error) {
		return e.JobList(ctx, a.Query)
	}),
	"JobGet": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.Job, structs.QueryMeta, error) {
		return e.JobGet(ctx, a.Query, a.ID)
	}),
	"JobAllocations": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.AllocListStub, structs.QueryMeta, error) {
		return e.JobAllocations(ctx, a.Query, a.ID, a.All)
	}),
	"JobEvaluations": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.Evaluation, structs.QueryMeta, error) {
		return e.JobEvaluations(ctx, a.Query, a.ID)
	}),
	"JobSummary": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.JobSummary, structs.QueryMeta, error) {
		return e.JobSummary(ctx, a.Query, a.ID)
	}),
	"AllocList": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.AllocListStub, structs.QueryMeta, error) {
		return e.AllocList(ctx, a.Query)
	}),
	"AllocGet": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.Allocation, structs.QueryMeta, error) {
		return e.AllocGet(ctx, a.Query, a.ID)
	}),
	"EvalList": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.Evaluation, structs.QueryMeta, error) {
		return e.EvalList(ctx, a.Query)
	}),
	"EvalGet": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.Evaluation, structs.QueryMeta, error) {
		return e.EvalGet(ctx, a.Query, a.ID)
	}),
	"NodeList": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.NodeListStub, structs.QueryMeta, error) {
		return e.NodeList(ctx, a.Query)
	}),
	"NodeGet": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) (*structs.Node, structs.QueryMeta, error) {
		return e.NodeGet(ctx, a.Query, a.ID)
	}),
	"RegisterNode": withArgs(func(ctx context.Context, e *Endpoints, a *structs.NodeRegisterArgs) (any, error) {
		if a.Node != nil {
			a.Node.SecretID = a.SecretID
		}
		ttl, err := e.RegisterNode(ctx, a.Node)
		return &structs.HeartbeatTTLReply{TTL: ttl}, err
	}),
	"Heartbeat": withArgs(func(ctx context.Context, e *Endpoints, a *structs.NodeHeartbeatArgs) (any, error) {
		ttl, err := e.Heartbeat(ctx, a.NodeID, a.Status)
		return &structs.HeartbeatTTLReply{TTL: ttl}, err
	}),
	"NodeAllocations": withArgs(func(ctx context.Context, e *Endpoints, a *structs.NodeAllocationsArgs) (any, error) {
		// The answer is only encoded: no copies (nodes.go).
		allocs, index, err := e.nodeAllocations(ctx, a.NodeID, a.MinIndex, a.Wait, false)
		return &structs.NodeAllocationsReply{Allocs: allocs, Index: index}, err
	}),
	"UpdateAllocations": withArgs(func(ctx context.Context, e *Endpoints, a *[]*structs.Allocation) (any, error) {
		return nil, e.UpdateAllocations(ctx, *a)
	}),
	// Service registrations (services.go).
	"UpsertServiceRegistrations": withArgs(func(ctx context.Context, e *Endpoints, a *structs.ServiceRegistrationsArgs) (any, error) {
		return &struct{}{}, e.UpsertServiceRegistrations(ctx, a.Registrations)
	}),
	"DeleteServiceRegistrations": withArgs(func(ctx context.Context, e *Endpoints, a *structs.ServiceDeregistrationArgs) (any, error) {
		return &struct{}{}, e.DeleteServiceRegistrations(ctx, a.IDs)
	}),
	"ServiceList": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.ServiceRegistrationListStub, structs.QueryMeta, error) {
		return e.ServiceList(ctx, a.Query)
	}),
	"ServiceGet": read(func(e *Endpoints, ctx context.Context, a *ReadArgs) ([]*structs.ServiceRegistration, structs.QueryMeta, error) {
		return e.ServiceGet(ctx, a.Query, a.ID)
	}),
	"ServiceDelete": withArgs(func(ctx context.Context, e *Endpoints, a *ServiceDeleteArgs) (any, error) {
		index, err := e.ServiceDelete(ctx, a.Namespace, a.ServiceName, a.ID)
		return &IndexedReply[struct{}]{Value: &struct{}{}, Index: index}, err
	}),
}

// ServeRPC answers a call from another server or a remote client.
func (e *Endpoints) ServeRPC(ctx context.Context, method string, args rpc.Args) (any, error) {
	name, forwarded := strings.CutPrefix(method, forwardedPrefix)
	if !forwarded {
		name = strings.TrimPrefix(method, "Endpoints.")
	}
	m, ok := rpcMethods[name]
	if !ok || name == method {
		return nil, structs.BadRequest(fmt.Errorf("unknown RPC method %q", method))
	}
	if forwarded {
		ctx = withForwarded(ctx)
	}
	return m(ctx, e, args)
}
