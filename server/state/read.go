package state

import (
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/structs"
)

// first returns a copy of the one object matching the index arguments, or
// the zero value when there is none. ws learns of later changes to it.
func first[T any](r *Reader, ws memdb.WatchSet, table, index string, copyFn func(T) T, args ...any) (T, error) {
	var zero T
	txn := r.readTxn()
	defer txn.Abort()
	watchCh, raw, err := txn.FirstWatch(table, index, args...)
	if err != nil {
		return zero, fmt.Errorf("state: %s by %s: %w", table, index, err)
	}
	ws.Add(watchCh)
	if raw == nil {
		return zero, nil
	}
	return copyFn(raw.(T)), nil
}

// list returns copies of every object matching the index arguments, in
// index order (by ID for every index here: memdb appends the primary key to
// non-unique keys). keep, when not nil, filters inside the same transaction.
func list[T any](txn *memdb.Txn, ws memdb.WatchSet, table, index string, copyFn func(T) T, keep func(T) bool, args ...any) ([]T, error) {
	iter, err := txn.Get(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("state: list %s by %s: %w", table, index, err)
	}
	ws.Add(iter.WatchCh())
	out := []T{}
	for raw := iter.Next(); raw != nil; raw = iter.Next() {
		obj := raw.(T)
		if keep != nil && !keep(obj) {
			continue
		}
		out = append(out, copyFn(obj))
	}
	return out, nil
}

// listAll is list in its own read transaction.
func listAll[T any](r *Reader, ws memdb.WatchSet, table, index string, copyFn func(T) T, args ...any) ([]T, error) {
	txn := r.readTxn()
	defer txn.Abort()
	return list(txn, ws, table, index, copyFn, nil, args...)
}

// jobCopies copies the jobs that allocations point to, once per stored job:
// the allocations of one plan share one job, and so do their copies, which
// keeps a long list from copying the same job thousands of times.
type jobCopies map[*structs.Job]*structs.Job

func (m jobCopies) copyAlloc(a *structs.Allocation) *structs.Allocation {
	c := a.Copy()
	c.Job = m.copyJob(a.Job)
	return c
}

func (m jobCopies) copyJob(j *structs.Job) *structs.Job {
	if j == nil {
		return nil
	}
	c, ok := m[j]
	if !ok {
		c = j.Copy()
		m[j] = c
	}
	return c
}

// JobByID returns the job, or nil if there is none.
func (r *Reader) JobByID(ws memdb.WatchSet, namespace, id string) (*structs.Job, error) {
	return first(r, ws, TableJobs, indexID, (*structs.Job).Copy, namespace, id)
}

// Jobs returns every job, by namespace then ID.
func (r *Reader) Jobs(ws memdb.WatchSet) ([]*structs.Job, error) {
	return listAll(r, ws, TableJobs, indexID, (*structs.Job).Copy)
}

// JobsByIDPrefix returns the jobs of the namespace whose ID starts with prefix.
func (r *Reader) JobsByIDPrefix(ws memdb.WatchSet, namespace, prefix string) ([]*structs.Job, error) {
	return listAll(r, ws, TableJobs, indexIDPrefix, (*structs.Job).Copy, namespace, prefix)
}

// JobSummaryByID returns the job's summary, or nil if there is none.
func (r *Reader) JobSummaryByID(ws memdb.WatchSet, namespace, jobID string) (*structs.JobSummary, error) {
	return first(r, ws, TableJobSummary, indexID, (*structs.JobSummary).Copy, namespace, jobID)
}

// JobSummaries returns every job summary, by namespace then job ID.
func (r *Reader) JobSummaries(ws memdb.WatchSet) ([]*structs.JobSummary, error) {
	return listAll(r, ws, TableJobSummary, indexID, (*structs.JobSummary).Copy)
}

// EvalByID returns the evaluation, or nil if there is none.
func (r *Reader) EvalByID(ws memdb.WatchSet, id string) (*structs.Evaluation, error) {
	return first(r, ws, TableEvals, indexID, (*structs.Evaluation).Copy, id)
}

// Evals returns every evaluation, by ID.
func (r *Reader) Evals(ws memdb.WatchSet) ([]*structs.Evaluation, error) {
	return listAll(r, ws, TableEvals, indexID, (*structs.Evaluation).Copy)
}

// EvalsByIDPrefix returns the evaluations whose ID starts with prefix.
func (r *Reader) EvalsByIDPrefix(ws memdb.WatchSet, prefix string) ([]*structs.Evaluation, error) {
	return listAll(r, ws, TableEvals, indexIDPrefix, (*structs.Evaluation).Copy, prefix)
}

// EvalsByJob returns the job's evaluations, by ID.
func (r *Reader) EvalsByJob(ws memdb.WatchSet, namespace, jobID string) ([]*structs.Evaluation, error) {
	return listAll(r, ws, TableEvals, indexJob, (*structs.Evaluation).Copy, namespace, jobID)
}

// AllocByID returns the allocation, or nil if there is none.
func (r *Reader) AllocByID(ws memdb.WatchSet, id string) (*structs.Allocation, error) {
	return first(r, ws, TableAllocs, indexID, jobCopies{}.copyAlloc, id)
}

// Allocs returns every allocation, by ID.
func (r *Reader) Allocs(ws memdb.WatchSet) ([]*structs.Allocation, error) {
	return listAll(r, ws, TableAllocs, indexID, jobCopies{}.copyAlloc)
}

// AllocsByIDPrefix returns the allocations whose ID starts with prefix.
func (r *Reader) AllocsByIDPrefix(ws memdb.WatchSet, prefix string) ([]*structs.Allocation, error) {
	return listAll(r, ws, TableAllocs, indexIDPrefix, jobCopies{}.copyAlloc, prefix)
}

// AllocsByJob returns the job's allocations, by ID. Unless anyCreateIndex,
// it leaves out allocations of an earlier job with the same ID (one that was
// purged and registered again), as Nomad does.
func (r *Reader) AllocsByJob(ws memdb.WatchSet, namespace, jobID string, anyCreateIndex bool) ([]*structs.Allocation, error) {
	txn := r.readTxn()
	defer txn.Abort()
	var keep func(*structs.Allocation) bool
	if !anyCreateIndex {
		watchCh, raw, err := txn.FirstWatch(TableJobs, indexID, namespace, jobID)
		if err != nil {
			return nil, fmt.Errorf("state: job lookup: %w", err)
		}
		ws.Add(watchCh)
		if raw != nil {
			createIndex := raw.(*structs.Job).CreateIndex
			keep = func(a *structs.Allocation) bool { return a.Job == nil || a.Job.CreateIndex == createIndex }
		}
	}
	return list(txn, ws, TableAllocs, indexJob, jobCopies{}.copyAlloc, keep, namespace, jobID)
}

// AllocsByNode returns the node's allocations, by ID.
func (r *Reader) AllocsByNode(ws memdb.WatchSet, nodeID string) ([]*structs.Allocation, error) {
	return listAll(r, ws, TableAllocs, indexNode, jobCopies{}.copyAlloc, nodeID)
}

// AllocsByNodeShared returns the node's allocations as stored, by ID: not
// copies. It serves readers that only look and read thousands of
// allocations per plan (the scheduler's usage of each node, the plan
// applier's fit check). Stored objects never change, since every write
// stores a new version, so they are safe to read at any time; the caller
// must never modify them nor anything they point to.
// ws, when not nil, learns of later changes (a client's blocking query,
// which only encodes what it reads).
func (r *Reader) AllocsByNodeShared(ws memdb.WatchSet, nodeID string) ([]*structs.Allocation, error) {
	return listAll(r, ws, TableAllocs, indexNode, shared[*structs.Allocation], nodeID)
}

// AllocByIDShared returns the allocation as stored, or nil: not a copy;
// the caller must never modify it (see AllocsByNodeShared).
func (r *Reader) AllocByIDShared(id string) (*structs.Allocation, error) {
	return first(r, nil, TableAllocs, indexID, shared[*structs.Allocation], id)
}

// NodesShared returns every node as stored, by ID: not copies. The
// scheduler reads every node for every evaluation; like
// AllocsByNodeShared, the caller must never modify what it returns.
func (r *Reader) NodesShared() ([]*structs.Node, error) {
	return listAll(r, nil, TableNodes, indexID, shared[*structs.Node])
}

// shared is the copy function of the *Shared readers: none.
func shared[T any](v T) T { return v }

// AllocsByEval returns the allocations the evaluation placed, by ID.
func (r *Reader) AllocsByEval(ws memdb.WatchSet, evalID string) ([]*structs.Allocation, error) {
	return listAll(r, ws, TableAllocs, indexEval, jobCopies{}.copyAlloc, evalID)
}

// NodeByID returns the node, or nil if there is none.
func (r *Reader) NodeByID(ws memdb.WatchSet, id string) (*structs.Node, error) {
	return first(r, ws, TableNodes, indexID, (*structs.Node).Copy, id)
}

// Nodes returns every node, by ID.
func (r *Reader) Nodes(ws memdb.WatchSet) ([]*structs.Node, error) {
	return listAll(r, ws, TableNodes, indexID, (*structs.Node).Copy)
}

// NodesByIDPrefix returns the nodes whose ID starts with prefix.
func (r *Reader) NodesByIDPrefix(ws memdb.WatchSet, prefix string) ([]*structs.Node, error) {
	return listAll(r, ws, TableNodes, indexIDPrefix, (*structs.Node).Copy, prefix)
}

// Index returns the raft index of the last write to table (0 if none).
func (r *Reader) Index(table string) (uint64, error) {
	txn := r.readTxn()
	defer txn.Abort()
	raw, err := txn.First(TableIndex, indexID, table)
	if err != nil {
		return 0, fmt.Errorf("state: index of %s: %w", table, err)
	}
	if raw == nil {
		return 0, nil
	}
	return raw.(*IndexEntry).Index, nil
}

// Indexes returns the index table, by table name.
func (r *Reader) Indexes() ([]IndexEntry, error) {
	entries, err := listAll(r, nil, TableIndex, indexID, func(e *IndexEntry) *IndexEntry { c := *e; return &c })
	if err != nil {
		return nil, err
	}
	out := make([]IndexEntry, len(entries))
	for i, e := range entries {
		out[i] = *e
	}
	return out, nil
}

// LatestIndex returns the highest raft index written to any table.
func (r *Reader) LatestIndex() (uint64, error) {
	entries, err := r.Indexes()
	if err != nil {
		return 0, err
	}
	var latest uint64
	for _, e := range entries {
		latest = max(latest, e.Index)
	}
	return latest, nil
}
