package api

import "github.com/drover-project/drover/structs"

// Allocations is the /v1/allocations and /v1/allocation/ part of the API.
type Allocations struct{ c *Client }

// Allocations returns the allocations endpoints.
func (c *Client) Allocations() *Allocations { return &Allocations{c} }

// List lists allocations; q.Prefix filters by ID prefix.
func (a *Allocations) List(q *QueryOptions) ([]*structs.AllocListStub, *QueryMeta, error) {
	var out []*structs.AllocListStub
	meta, err := a.c.query("/v1/allocations", q, &out)
	return out, meta, err
}

// Info reads one allocation by its full ID.
func (a *Allocations) Info(allocID string, q *QueryOptions) (*structs.Allocation, *QueryMeta, error) {
	var out structs.Allocation
	meta, err := a.c.query("/v1/allocation/"+escape(allocID), q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// Evaluations is the /v1/evaluations and /v1/evaluation/ part of the API.
type Evaluations struct{ c *Client }

// Evaluations returns the evaluations endpoints.
func (c *Client) Evaluations() *Evaluations { return &Evaluations{c} }

// List lists evaluations; q.Prefix filters by ID prefix.
func (e *Evaluations) List(q *QueryOptions) ([]*structs.Evaluation, *QueryMeta, error) {
	var out []*structs.Evaluation
	meta, err := e.c.query("/v1/evaluations", q, &out)
	return out, meta, err
}

// Info reads one evaluation by its full ID.
func (e *Evaluations) Info(evalID string, q *QueryOptions) (*structs.Evaluation, *QueryMeta, error) {
	var out structs.Evaluation
	meta, err := e.c.query("/v1/evaluation/"+escape(evalID), q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// Allocations lists the allocations an evaluation placed or changed.
func (e *Evaluations) Allocations(evalID string, q *QueryOptions) ([]*structs.AllocListStub, *QueryMeta, error) {
	var out []*structs.AllocListStub
	meta, err := e.c.query("/v1/evaluation/"+escape(evalID)+"/allocations", q, &out)
	return out, meta, err
}

// Nodes is the /v1/nodes and /v1/node/ part of the API.
type Nodes struct{ c *Client }

// Nodes returns the nodes endpoints.
func (c *Client) Nodes() *Nodes { return &Nodes{c} }

// List lists nodes; q.Prefix filters by ID prefix.
func (n *Nodes) List(q *QueryOptions) ([]*structs.NodeListStub, *QueryMeta, error) {
	var out []*structs.NodeListStub
	meta, err := n.c.query("/v1/nodes", q, &out)
	return out, meta, err
}

// Info reads one node by its full ID.
func (n *Nodes) Info(nodeID string, q *QueryOptions) (*structs.Node, *QueryMeta, error) {
	var out structs.Node
	meta, err := n.c.query("/v1/node/"+escape(nodeID), q, &out)
	if err != nil {
		return nil, nil, err
	}
	return &out, meta, nil
}

// Allocations lists the allocations placed on a node, in full.
func (n *Nodes) Allocations(nodeID string, q *QueryOptions) ([]*structs.Allocation, *QueryMeta, error) {
	var out []*structs.Allocation
	meta, err := n.c.query("/v1/node/"+escape(nodeID)+"/allocations", q, &out)
	return out, meta, err
}

// Status is the /v1/status/ part of the API.
type Status struct{ c *Client }

// Status returns the status endpoints.
func (c *Client) Status() *Status { return &Status{c} }

// Leader is the RPC address of the cluster's leader, "" when there is none.
func (s *Status) Leader() (string, error) {
	var out string
	_, err := s.c.query("/v1/status/leader", nil, &out)
	return out, err
}

// Peers are the RPC addresses of the Raft voters.
func (s *Status) Peers() ([]string, error) {
	var out []string
	_, err := s.c.query("/v1/status/peers", nil, &out)
	return out, err
}

// Agent is the /v1/agent/ part of the API.
type Agent struct{ c *Client }

// Agent returns the agent endpoints.
func (c *Client) Agent() *Agent { return &Agent{c} }

// Self describes the agent the client talks to.
func (a *Agent) Self() (map[string]any, error) {
	var out map[string]any
	_, err := a.c.query("/v1/agent/self", nil, &out)
	return out, err
}
