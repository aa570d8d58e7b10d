package state

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/structs"
)

// TableDeployments keeps the deployments of service jobs.
const TableDeployments = "deployments"

func deploymentsSchema() *memdb.TableSchema {
	return &memdb.TableSchema{Name: TableDeployments, Indexes: map[string]*memdb.IndexSchema{
		indexID:  byID(),
		indexJob: {Name: indexJob, Indexer: namespacedID("JobID")},
	}}
}

// upsertDeployment stores a deployment the scheduler created or changed.
func (w *writer) upsertDeployment(d *structs.Deployment) error {
	if err := requireIDs("deployment", "ID", d.ID, "Namespace", d.Namespace, "JobID", d.JobID); err != nil {
		return err
	}
	c := d.Copy()
	existing, err := get[*structs.Deployment](w, TableDeployments, c.ID)
	if err != nil {
		return err
	}
	if existing == nil {
		c.CreateIndex = w.index
	} else {
		c.CreateIndex = existing.CreateIndex
		// Counters are kept by the state (countDeploymentAlloc), never
		// taken from a scheduler's possibly older copy.
		for name, s := range c.TaskGroups {
			if old := existing.TaskGroups[name]; old != nil {
				s.PlacedAllocs, s.HealthyAllocs, s.UnhealthyAllocs = old.PlacedAllocs, old.HealthyAllocs, old.UnhealthyAllocs
				s.PlacedCanaries = old.PlacedCanaries
				s.RequireProgressBy = old.RequireProgressBy
				s.Promoted = s.Promoted || old.Promoted
			}
		}
	}
	c.ModifyIndex = w.index
	return w.insert(TableDeployments, c)
}

// updateDeploymentStatus sets a deployment's status; a successful
// deployment marks its job version stable.
func (w *writer) updateDeploymentStatus(u *structs.DeploymentStatusUpdate) error {
	existing, err := get[*structs.Deployment](w, TableDeployments, u.DeploymentID)
	if err != nil {
		return err
	}
	if existing == nil {
		return structs.NotFound(fmt.Errorf("deployment %q not found", u.DeploymentID))
	}
	c := existing.Copy()
	c.Status, c.StatusDescription = u.Status, u.StatusDescription
	c.ModifyIndex = w.index
	if err := w.insert(TableDeployments, c); err != nil {
		return err
	}
	if c.Status == structs.DeploymentStatusSuccessful {
		return w.setJobStability(c.Namespace, c.JobID, c.JobVersion, true)
	}
	return nil
}

// countDeploymentAlloc keeps a deployment's counters as its allocations
// are placed and their health is reported.
func (w *writer) countDeploymentAlloc(existing, a *structs.Allocation) error {
	if a.DeploymentID == "" {
		return nil
	}
	d, err := get[*structs.Deployment](w, TableDeployments, a.DeploymentID)
	if err != nil || d == nil || d.TaskGroups[a.TaskGroup] == nil {
		return err
	}
	c := d.Copy()
	s := c.TaskGroups[a.TaskGroup]
	changed := false
	if existing == nil {
		s.PlacedAllocs++
		if a.DeploymentStatus.IsCanary() {
			s.PlacedCanaries = append(s.PlacedCanaries, a.ID)
		}
		changed = true
	}
	var before *structs.AllocDeploymentStatus
	if existing != nil {
		before = existing.DeploymentStatus
	}
	if !before.HasHealth() && a.DeploymentStatus.HasHealth() {
		if a.DeploymentStatus.IsHealthy() {
			s.HealthyAllocs++
			if s.ProgressDeadline > 0 {
				s.RequireProgressBy = a.DeploymentStatus.Timestamp.Add(s.ProgressDeadline)
			}
		} else {
			s.UnhealthyAllocs++
		}
		changed = true
	}
	if !changed {
		return nil
	}
	c.ModifyIndex = w.index
	return w.insert(TableDeployments, c)
}

// UpdateDeploymentStatus changes a deployment's status. job, if not nil,
// is registered with it (an automatic revert), and eval committed with it.
func (s *StateStore) UpdateDeploymentStatus(index uint64, u *structs.DeploymentStatusUpdate, job *structs.Job, eval *structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		if err := w.updateDeploymentStatus(u); err != nil {
			return err
		}
		var evals []*structs.Evaluation
		if eval != nil {
			evals = append(evals, eval)
		}
		if job != nil {
			stored, err := w.upsertJob(job.Copy())
			if err != nil {
				return err
			}
			evals = copyEvals(evals)
			setJobModifyIndex(evals, stored)
			return w.upsertOwnedEvals(evals)
		}
		return w.upsertEvals(evals)
	})
}

// PromoteDeployment marks the canaries of the named groups (all with
// All) promoted, and commits eval, which places the rest.
func (s *StateStore) PromoteDeployment(index uint64, req *structs.DeploymentPromoteRequest, eval *structs.Evaluation) error {
	return s.write(index, func(w *writer) error {
		existing, err := get[*structs.Deployment](w, TableDeployments, req.DeploymentID)
		if err != nil {
			return err
		}
		if existing == nil {
			return structs.NotFound(fmt.Errorf("deployment %q not found", req.DeploymentID))
		}
		c := existing.Copy()
		for name, st := range c.TaskGroups {
			if req.All || slices.Contains(req.Groups, name) {
				if st.DesiredCanaries > 0 {
					st.Promoted = true
				}
			}
		}
		if c.Status == structs.DeploymentStatusRunning {
			c.StatusDescription = structs.DeploymentDescRunning
		}
		c.ModifyIndex = index
		if err := w.insert(TableDeployments, c); err != nil {
			return err
		}
		if eval == nil {
			return nil
		}
		return w.upsertEvals([]*structs.Evaluation{eval})
	})
}

// setJobStability is SetJobStability within a write.
func (w *writer) setJobStability(namespace, jobID string, version uint64, stable bool) error {
	v, err := get[*structs.Job](w, TableJobVersions, namespace, jobID, version)
	if err != nil || v == nil {
		return err
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
	c.ModifyIndex = w.index
	return w.insert(TableJobs, c)
}

// DeploymentByID returns a deployment, or nil.
func (r *Reader) DeploymentByID(ws memdb.WatchSet, id string) (*structs.Deployment, error) {
	return first(r, ws, TableDeployments, indexID, (*structs.Deployment).Copy, id)
}

// Deployments returns every deployment, newest first.
func (r *Reader) Deployments(ws memdb.WatchSet) ([]*structs.Deployment, error) {
	out, err := listAll(r, ws, TableDeployments, indexID, (*structs.Deployment).Copy)
	if err != nil {
		return nil, err
	}
	sortNewestFirst(out)
	return out, nil
}

// DeploymentsByIDPrefix returns the deployments whose ID starts with
// prefix.
func (r *Reader) DeploymentsByIDPrefix(ws memdb.WatchSet, prefix string) ([]*structs.Deployment, error) {
	out, err := listAll(r, ws, TableDeployments, indexIDPrefix, (*structs.Deployment).Copy, prefix)
	if err != nil {
		return nil, err
	}
	sortNewestFirst(out)
	return out, nil
}

// DeploymentsByJob returns a job's deployments, newest first.
func (r *Reader) DeploymentsByJob(ws memdb.WatchSet, namespace, jobID string) ([]*structs.Deployment, error) {
	out, err := listAll(r, ws, TableDeployments, indexJob, (*structs.Deployment).Copy, namespace, jobID)
	if err != nil {
		return nil, err
	}
	sortNewestFirst(out)
	return out, nil
}

// LatestDeploymentByJob returns a job's newest deployment, or nil.
func (r *Reader) LatestDeploymentByJob(ws memdb.WatchSet, namespace, jobID string) (*structs.Deployment, error) {
	all, err := r.DeploymentsByJob(ws, namespace, jobID)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[0], nil
}

// DeploymentRestore restores one deployment.
func (r *StateRestore) DeploymentRestore(d *structs.Deployment) error {
	return r.insert(TableDeployments, d.Copy())
}

func sortNewestFirst(ds []*structs.Deployment) {
	slices.SortFunc(ds, func(a, b *structs.Deployment) int {
		return cmp.Or(cmp.Compare(b.CreateIndex, a.CreateIndex), cmp.Compare(a.ID, b.ID))
	})
}
