package schedulertest

import "github.com/drover-project/drover/structs"

// UpsertDeployment stores a copy of d.
func (s *State) UpsertDeployment(d *structs.Deployment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putDeployment(d)
}

func (s *State) putDeployment(d *structs.Deployment) {
	s.index++
	c := d.Copy()
	if s.deployments == nil {
		s.deployments = map[string]*structs.Deployment{}
	}
	if old, ok := s.deployments[c.ID]; ok {
		c.CreateIndex = old.CreateIndex
	} else {
		c.CreateIndex = s.index
	}
	c.ModifyIndex = s.index
	s.deployments[c.ID] = c
}

// Deployment returns a copy of a stored deployment, or nil.
func (s *State) Deployment(id string) *structs.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deployments[id].Copy()
}

// LatestDeploymentByJob implements scheduler.DeploymentState.
func (s *State) LatestDeploymentByJob(namespace, jobID string) (*structs.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var latest *structs.Deployment
	for _, d := range s.deployments {
		if d.Namespace == namespace && d.JobID == jobID && (latest == nil || d.CreateIndex > latest.CreateIndex) {
			latest = d
		}
	}
	return latest.Copy(), nil
}

// commitDeployments applies a plan's deployment and status updates.
func (s *State) commitDeployments(plan *structs.Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if plan.Deployment != nil {
		s.putDeployment(plan.Deployment)
	}
	for _, u := range plan.DeploymentUpdates {
		if d := s.deployments[u.DeploymentID]; d != nil {
			c := d.Copy()
			c.Status, c.StatusDescription = u.Status, u.StatusDescription
			s.putDeployment(c)
		}
	}
}
