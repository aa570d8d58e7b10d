package api

import (
	"net/http"

	"github.com/drover-project/drover/structs"
)

// Deployments is the /v1/deployments and /v1/deployment/ part of the API.
type Deployments struct{ c *Client }

// Deployments returns the deployments endpoints.
func (c *Client) Deployments() *Deployments { return &Deployments{c} }

// List lists deployments, newest first; q.Prefix filters by ID prefix.
func (d *Deployments) List(q *QueryOptions) ([]*structs.Deployment, *QueryMeta, error) {
	var out []*structs.Deployment
	meta, err := d.c.query("/v1/deployments", q, &out)
	return out, meta, err
}

// Info reads one deployment by ID (or unique prefix).
func (d *Deployments) Info(id string, q *QueryOptions) (*structs.Deployment, *QueryMeta, error) {
	var out structs.Deployment
	meta, err := d.c.query("/v1/deployment/"+escape(id), q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// Allocations lists the allocations a deployment placed.
func (d *Deployments) Allocations(id string, q *QueryOptions) ([]*structs.AllocListStub, *QueryMeta, error) {
	var out []*structs.AllocListStub
	meta, err := d.c.query("/v1/deployment/allocations/"+escape(id), q, &out)
	return out, meta, err
}

// PromoteAll promotes the canaries of every group.
func (d *Deployments) PromoteAll(id string) (*structs.DeploymentUpdateResponse, error) {
	return d.write("promote", id, map[string]any{"DeploymentID": id, "All": true})
}

// PromoteGroups promotes the canaries of the named groups.
func (d *Deployments) PromoteGroups(id string, groups []string) (*structs.DeploymentUpdateResponse, error) {
	return d.write("promote", id, map[string]any{"DeploymentID": id, "Groups": groups})
}

// Fail marks an active deployment failed (reverting the job when its
// update block asks for auto_revert).
func (d *Deployments) Fail(id string) (*structs.DeploymentUpdateResponse, error) {
	return d.write("fail", id, map[string]any{"DeploymentID": id})
}

// Pause pauses (true) or resumes (false) a deployment.
func (d *Deployments) Pause(id string, pause bool) (*structs.DeploymentUpdateResponse, error) {
	return d.write("pause", id, map[string]any{"DeploymentID": id, "Pause": pause})
}

// Unblock marks a blocked deployment successful.
func (d *Deployments) Unblock(id string) (*structs.DeploymentUpdateResponse, error) {
	return d.write("unblock", id, map[string]any{"DeploymentID": id})
}

func (d *Deployments) write(op, id string, body any) (*structs.DeploymentUpdateResponse, error) {
	var out structs.DeploymentUpdateResponse
	index, err := d.c.write(http.MethodPut, "/v1/deployment/"+op+"/"+escape(id), d.c.params(nil), body, &out)
	if err != nil {
		return nil, err
	}
	out.Index = index
	return &out, nil
}

// Deployments lists a job's deployments, newest first.
func (j *Jobs) Deployments(jobID string, q *QueryOptions) ([]*structs.Deployment, *QueryMeta, error) {
	var out []*structs.Deployment
	meta, err := j.c.query("/v1/job/"+escape(jobID)+"/deployments", q, &out)
	return out, meta, err
}

// LatestDeployment reads a job's newest deployment; nil when it has none.
func (j *Jobs) LatestDeployment(jobID string, q *QueryOptions) (*structs.Deployment, *QueryMeta, error) {
	var out *structs.Deployment
	meta, err := j.c.query("/v1/job/"+escape(jobID)+"/deployment", q, &out)
	return out, meta, err
}
