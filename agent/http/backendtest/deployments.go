package backendtest

import (
	"context"
	"fmt"

	"github.com/drover-project/drover/server/endpoints"
	"github.com/drover-project/drover/structs"
)

// The fake keeps no deployments: lists are empty, a job's latest
// deployment is none, and a write names an unknown deployment.

// DeploymentList implements agent/http's Deployer.
func (s *Server) DeploymentList(ctx context.Context, q *structs.QueryOptions) ([]*structs.Deployment, structs.QueryMeta, error) {
	return []*structs.Deployment{}, s.queryMeta(q), nil
}

// DeploymentGet implements agent/http's Deployer.
func (s *Server) DeploymentGet(ctx context.Context, q *structs.QueryOptions, id string) (*structs.Deployment, structs.QueryMeta, error) {
	return nil, s.queryMeta(q), structs.NotFound(fmt.Errorf("deployment %q not found", id))
}

// DeploymentAllocations implements agent/http's Deployer.
func (s *Server) DeploymentAllocations(ctx context.Context, q *structs.QueryOptions, id string) ([]*structs.AllocListStub, structs.QueryMeta, error) {
	return nil, s.queryMeta(q), structs.NotFound(fmt.Errorf("deployment %q not found", id))
}

// JobDeployments implements agent/http's Deployer.
func (s *Server) JobDeployments(ctx context.Context, q *structs.QueryOptions, jobID string) ([]*structs.Deployment, structs.QueryMeta, error) {
	return []*structs.Deployment{}, s.queryMeta(q), nil
}

// JobLatestDeployment implements agent/http's Deployer.
func (s *Server) JobLatestDeployment(ctx context.Context, q *structs.QueryOptions, jobID string) (*structs.Deployment, structs.QueryMeta, error) {
	return nil, s.queryMeta(q), nil
}

// DeploymentWrite implements agent/http's Deployer.
func (s *Server) DeploymentWrite(ctx context.Context, a *endpoints.DeploymentWriteArgs) (*structs.DeploymentUpdateResponse, error) {
	return nil, structs.NotFound(fmt.Errorf("deployment %q not found", a.DeploymentID))
}

// queryMeta is meta under the lock.
func (s *Server) queryMeta(q *structs.QueryOptions) structs.QueryMeta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta(q)
}
