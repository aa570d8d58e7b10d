package api

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/drover-project/drover/structs"
)

// Operator reaches the /v1/operator routes: Raft peers and snapshots.
type Operator struct{ c *Client }

// Operator returns the operator endpoints.
func (c *Client) Operator() *Operator { return &Operator{c} }

// RaftGetConfiguration lists the servers of the Raft configuration.
func (o *Operator) RaftGetConfiguration(q *QueryOptions) (*structs.RaftConfiguration, error) {
	var out structs.RaftConfiguration
	if _, err := o.c.query("/v1/operator/raft/configuration", q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RaftRemovePeerByAddress removes the server with that RPC address from
// the Raft configuration.
func (o *Operator) RaftRemovePeerByAddress(address string) error {
	return o.send(http.MethodDelete, "/v1/operator/raft/peer", url.Values{"address": {address}})
}

// RaftRemovePeerByID removes the server with that Raft ID.
func (o *Operator) RaftRemovePeerByID(id string) error {
	return o.send(http.MethodDelete, "/v1/operator/raft/peer", url.Values{"id": {id}})
}

// RaftTransferLeadershipToID hands leadership to the server with that ID,
// or with "" to the most up-to-date follower.
func (o *Operator) RaftTransferLeadershipToID(id string) error {
	params := url.Values{}
	if id != "" {
		params.Set("id", id)
	}
	return o.send(http.MethodPut, "/v1/operator/raft/transfer-leadership", params)
}

// RaftTransferLeadershipToAddress hands leadership to the server with that
// RPC address.
func (o *Operator) RaftTransferLeadershipToAddress(address string) error {
	return o.send(http.MethodPut, "/v1/operator/raft/transfer-leadership", url.Values{"address": {address}})
}

func (o *Operator) send(method, path string, params url.Values) error {
	resp, err := o.c.do(context.Background(), method, path, params, nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Snapshot streams a snapshot archive of the cluster state; the caller
// closes it. With q.AllowStale any server answers from its own state.
func (o *Operator) Snapshot(q *QueryOptions) (io.ReadCloser, error) {
	resp, err := o.c.do(q.Context(), http.MethodGet, "/v1/operator/snapshot", o.c.params(q), nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// SnapshotRestore replaces the cluster state with the archive read from r.
func (o *Operator) SnapshotRestore(r io.Reader, q *QueryOptions) error {
	resp, err := o.c.do(q.Context(), http.MethodPut, "/v1/operator/snapshot", o.c.params(q), r)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
