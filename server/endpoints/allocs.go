package endpoints

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// AllocList lists allocations, filtered by ID prefix.
func (e *Endpoints) AllocList(ctx context.Context, q *structs.QueryOptions) ([]*structs.AllocListStub, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.AllocListStub](ctx, e, "AllocList", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	var out []*structs.AllocListStub
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		out = []*structs.AllocListStub{}
		allocs, err := s.Allocs(ws)
		if err != nil {
			return 0, err
		}
		ns := namespaceOf(q)
		for _, a := range allocs {
			if ns != "*" && a.Namespace != ns {
				continue
			}
			if q != nil && !strings.HasPrefix(a.ID, q.Prefix) {
				continue
			}
			out = append(out, a.Stub())
		}
		return tableIndex(s, "allocs")
	})
	return out, meta, err
}

// AllocGet returns one allocation.
func (e *Endpoints) AllocGet(ctx context.Context, q *structs.QueryOptions, allocID string) (*structs.Allocation, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.Allocation](ctx, e, "AllocGet", ReadArgs{Query: q, ID: allocID}); ok {
		return out, meta, err
	}
	var out *structs.Allocation
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		a, err := s.AllocByID(ws, allocID)
		if err != nil {
			return 0, err
		}
		out = a
		return tableIndex(s, "allocs")
	})
	if err == nil && out == nil {
		err = structs.NotFound(fmt.Errorf("allocation %q not found", allocID))
	}
	return out, meta, err
}

// EvalList lists evaluations, filtered by ID prefix.
func (e *Endpoints) EvalList(ctx context.Context, q *structs.QueryOptions) ([]*structs.Evaluation, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[[]*structs.Evaluation](ctx, e, "EvalList", ReadArgs{Query: q}); ok {
		return out, meta, err
	}
	var out []*structs.Evaluation
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		out = []*structs.Evaluation{}
		evals, err := s.Evals(ws)
		if err != nil {
			return 0, err
		}
		ns := namespaceOf(q)
		for _, ev := range evals {
			if ns != "*" && ev.Namespace != ns {
				continue
			}
			if q != nil && !strings.HasPrefix(ev.ID, q.Prefix) {
				continue
			}
			out = append(out, ev)
		}
		return tableIndex(s, "evals")
	})
	return out, meta, err
}

// EvalGet returns one evaluation.
func (e *Endpoints) EvalGet(ctx context.Context, q *structs.QueryOptions, evalID string) (*structs.Evaluation, structs.QueryMeta, error) {
	if out, meta, ok, err := forwardRead[*structs.Evaluation](ctx, e, "EvalGet", ReadArgs{Query: q, ID: evalID}); ok {
		return out, meta, err
	}
	var out *structs.Evaluation
	meta, err := e.query(ctx, q, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		ev, err := s.EvalByID(ws, evalID)
		if err != nil {
			return 0, err
		}
		out = ev
		return tableIndex(s, "evals")
	})
	if err == nil && out == nil {
		err = structs.NotFound(fmt.Errorf("evaluation %q not found", evalID))
	}
	return out, meta, err
}
