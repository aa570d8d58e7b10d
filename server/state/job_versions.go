package state

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/structs"
)

// TableJobVersions keeps the recent versions of every job, for `job
// history` and `job revert`.
const TableJobVersions = "job_versions"

// JobTrackedVersions is how many versions of a job are kept, as Nomad's
// default: older ones are dropped as new ones come.
const JobTrackedVersions = 6

// jobVersionsSchema keys versions by namespace, job ID and version, and
// indexes them by job to list or drop a job's versions together.
func jobVersionsSchema() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TableJobVersions, Indexes: map[string]*memdb.IndexSchema{
		indexID: {Name: indexID, Unique: true, Indexer: &memdb.CompoundIndex{Indexes: []memdb.Indexer{
			&memdb.StringFieldIndex{Field: "Namespace"},
			&memdb.StringFieldIndex{Field: "ID"},
			&memdb.UintFieldIndex{Field: "Version"},
		}}},
		indexJob: {Name: indexJob, Indexer: namespacedID("ID")},
	}}
}

// recordVersion stores the job as its version (replacing an entry of the
// same version, as when only its stability changes) and drops the oldest
// versions beyond JobTrackedVersions.
//
// The version is the very object just stored in the jobs table, not a
// copy: stored objects are never changed in place (a writer that changes
// the job, like setJobStatus, stores a changed copy), so sharing it is
// safe and saves a copy of every registered job.
func (w *writer) recordVersion(job *structs.Job) error {
	if err := w.insert(TableJobVersions, job); err != nil {
		return err
	}
	versions, err := w.jobVersions(job.Namespace, job.ID)
	if err != nil {
		return err
	}
	for len(versions) > JobTrackedVersions {
		oldest := versions[len(versions)-1]
		if err := w.delete(TableJobVersions, oldest); err != nil {
			return err
		}
		versions = versions[:len(versions)-1]
	}
	return nil
}

// deleteVersions drops every version of a purged job.
func (w *writer) deleteVersions(namespace, jobID string) error {
	versions, err := w.jobVersions(namespace, jobID)
	if err != nil {
		return err
	}
	for _, v := range versions {
		if err := w.delete(TableJobVersions, v); err != nil {
			return err
		}
	}
	return nil
}

// jobVersions lists the stored versions of a job, newest first.
func (w *writer) jobVersions(namespace, jobID string) ([]*structs.Job, error) {
	iter, err := w.txn.Get(TableJobVersions, indexJob, namespace, jobID)
	if err != nil {
		return nil, fmt.Errorf("state: list %s: %w", TableJobVersions, err)
	}
	var out []*structs.Job
	for raw := iter.Next(); raw != nil; raw = iter.Next() {
		out = append(out, raw.(*structs.Job))
	}
	slices.SortFunc(out, func(a, b *structs.Job) int { return cmp.Compare(b.Version, a.Version) })
	return out, nil
}

// JobVersions returns the kept versions of a job, newest first; none when
// the job does not exist.
func (r *Reader) JobVersions(ws memdb.WatchSet, namespace, jobID string) ([]*structs.Job, error) {
	out, err := listAll(r, ws, TableJobVersions, indexJob, (*structs.Job).Copy, namespace, jobID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *structs.Job) int { return cmp.Compare(b.Version, a.Version) })
	return out, nil
}

// JobByIDAndVersion returns one kept version of a job, or nil.
func (r *Reader) JobByIDAndVersion(ws memdb.WatchSet, namespace, jobID string, version uint64) (*structs.Job, error) {
	return first(r, ws, TableJobVersions, indexID, (*structs.Job).Copy, namespace, jobID, version)
}

// AllJobVersions returns every kept version of every job, for snapshots.
func (r *Reader) AllJobVersions(ws memdb.WatchSet) ([]*structs.Job, error) {
	return listAll(r, ws, TableJobVersions, indexID, (*structs.Job).Copy)
}

// JobVersionRestore restores one kept version of a job.
func (r *StateRestore) JobVersionRestore(job *structs.Job) error {
	return r.insert(TableJobVersions, job.Copy())
}

// SetJobStability marks a kept version of a job stable or not, on the
// version and, when it is the current one, on the job. It makes no new
// version.
func (s *StateStore) SetJobStability(index uint64, namespace, jobID string, version uint64, stable bool) error {
	return s.write(index, func(w *writer) error {
		v, err := get[*structs.Job](w, TableJobVersions, namespace, jobID, version)
		if err != nil {
			return err
		}
		if v == nil {
			return structs.NotFound(fmt.Errorf("version %d of job %q not found in namespace %q", version, jobID, namespace))
		}
		marked := v.Copy()
		marked.Stable = stable
		if err := w.insert(TableJobVersions, marked); err != nil {
			return err
		}
		current, err := get[*structs.Job](w, TableJobs, namespace, jobID)
		if err != nil || current == nil || current.Version != version {
			return err
		}
		c := current.Copy()
		c.Stable = stable
		c.ModifyIndex = index
		return w.insert(TableJobs, c)
	})
}
