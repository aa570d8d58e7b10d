package http

import (
	"net/http"

	"github.com/drover-project/drover/structs"
)

// allocList answers GET /v1/allocations.
func (a *api) allocList(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	allocs, meta, err := a.Server.AllocList(r.Context(), q)
	return orEmpty(allocs), meta, err
}

// allocGet answers GET /v1/allocation/{id}.
func (a *api) allocGet(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	return a.Server.AllocGet(r.Context(), q, r.PathValue("id"))
}

// evalList answers GET /v1/evaluations.
func (a *api) evalList(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	evals, meta, err := a.Server.EvalList(r.Context(), q)
	return orEmpty(evals), meta, err
}

// evalGet answers GET /v1/evaluation/{id}.
func (a *api) evalGet(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	return a.Server.EvalGet(r.Context(), q, r.PathValue("id"))
}

// evalAllocations answers GET /v1/evaluation/{id}/allocations: the
// allocations that evaluation placed or changed. The Server has no index by
// evaluation, so this filters the allocation list; it first checks the
// evaluation exists so that a wrong ID is a 404, not an empty list.
func (a *api) evalAllocations(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	id := r.PathValue("id")
	if _, _, err := a.Server.EvalGet(r.Context(), &structs.QueryOptions{Region: q.Region, Namespace: q.Namespace, AllowStale: q.AllowStale}, id); err != nil {
		return nil, structs.QueryMeta{}, err
	}
	all, meta, err := a.Server.AllocList(r.Context(), withoutPrefix(q))
	if err != nil {
		return nil, meta, err
	}
	out := []*structs.AllocListStub{}
	for _, alloc := range all {
		if alloc.EvalID == id {
			out = append(out, alloc)
		}
	}
	return out, meta, nil
}

// nodeList answers GET /v1/nodes.
func (a *api) nodeList(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	nodes, meta, err := a.Server.NodeList(r.Context(), q)
	return orEmpty(nodes), meta, err
}

// nodeGet answers GET /v1/node/{id}.
func (a *api) nodeGet(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	return a.Server.NodeGet(r.Context(), q, r.PathValue("id"))
}

// nodeAllocations answers GET /v1/node/{id}/allocations with the full
// allocations placed on the node, as Nomad does. Like evalAllocations it
// filters the allocation list, then reads each match.
func (a *api) nodeAllocations(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	id := r.PathValue("id")
	if _, _, err := a.Server.NodeGet(r.Context(), &structs.QueryOptions{Region: q.Region, AllowStale: q.AllowStale}, id); err != nil {
		return nil, structs.QueryMeta{}, err
	}
	stubs, meta, err := a.Server.AllocList(r.Context(), withoutPrefix(q))
	if err != nil {
		return nil, meta, err
	}
	out := []*structs.Allocation{}
	for _, stub := range stubs {
		if stub.NodeID != id {
			continue
		}
		one := &structs.QueryOptions{Region: q.Region, Namespace: stub.Namespace, AllowStale: q.AllowStale}
		alloc, _, err := a.Server.AllocGet(r.Context(), one, stub.ID)
		if err != nil {
			return nil, meta, err
		}
		out = append(out, alloc)
	}
	return out, meta, nil
}

// withoutPrefix copies q without its prefix, for lists filtered here.
func withoutPrefix(q *structs.QueryOptions) *structs.QueryOptions {
	c := *q
	c.Prefix = ""
	return &c
}

// statusLeader answers GET /v1/status/leader with the leader's RPC address
// as a JSON string ("" when there is none).
func (a *api) statusLeader(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	leader := a.Server.Leader()
	return leader, structs.QueryMeta{KnownLeader: leader != ""}, nil
}

// statusPeers answers GET /v1/status/peers with the Raft voters' addresses.
func (a *api) statusPeers(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	peers, err := a.Server.Peers()
	return orEmpty(peers), structs.QueryMeta{KnownLeader: a.Server.Leader() != ""}, err
}

// agentSelf answers GET /v1/agent/self.
func (a *api) agentSelf(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error) {
	self := map[string]any{}
	if a.Agent != nil {
		self = a.Agent.Self()
	}
	return self, structs.QueryMeta{KnownLeader: a.Server.Leader() != ""}, nil
}
