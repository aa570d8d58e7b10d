package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/drover-project/drover/structs"
)

// Members lists the servers of the region as the agent's gossip sees them.
func (a *Agent) Members() (*structs.ServerMembers, error) {
	var out structs.ServerMembers
	if _, err := a.c.query("/v1/agent/members", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Join asks the agent's server to join the servers at addrs ("host" or
// "host:port"; the gossip port defaults to 4748). It returns how many
// answered; the error says why none did.
func (a *Agent) Join(addrs ...string) (int, error) {
	params := url.Values{"address": addrs}
	var out structs.AgentJoinResponse
	if _, err := a.c.write(http.MethodPut, "/v1/agent/join", params, nil, &out); err != nil {
		return 0, err
	}
	if out.Error != "" {
		return out.NumJoined, errors.New(out.Error)
	}
	return out.NumJoined, nil
}

// ForceLeave forces a failed server (by member name, "name" or
// "name.region") to "left", which takes it out of the Raft configuration;
// prune also drops it from the member list.
func (a *Agent) ForceLeave(node string, prune bool) error {
	params := url.Values{"node": {node}}
	if prune {
		params.Set("prune", "true")
	}
	resp, err := a.c.do(context.Background(), http.MethodPut, "/v1/agent/force-leave", params, nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
