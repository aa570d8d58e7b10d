package http

import (
	"net/http"

	"github.com/drover-project/drover/structs"
)

// Membership is what the gossip routes need of a server agent:
// GET /v1/agent/members, PUT /v1/agent/join, PUT /v1/agent/force-leave.
// The Agent of Config implements it when the agent runs a server.
type Membership interface {
	Members() (*structs.ServerMembers, error)
	// Join contacts the gossip addresses and returns how many answered.
	Join(addrs []string) (int, error)
	// ForceLeave forces a failed server to "left"; prune also drops it from the list.
	ForceLeave(node string, prune bool) error
}

func (a *api) registerMembership(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/agent/members", a.agentMembers)
	mux.HandleFunc("PUT /v1/agent/join", a.agentJoin)
	mux.HandleFunc("POST /v1/agent/join", a.agentJoin)
	mux.HandleFunc("PUT /v1/agent/force-leave", a.agentForceLeave)
	mux.HandleFunc("POST /v1/agent/force-leave", a.agentForceLeave)
}

func (a *api) membership() (Membership, error) {
	m, ok := a.Agent.(Membership)
	if !ok || m == nil {
		return nil, errNoServer
	}
	return m, nil
}

// agentMembers answers GET /v1/agent/members with the servers this agent's
// gossip knows, in Nomad's shape.
func (a *api) agentMembers(w http.ResponseWriter, r *http.Request) {
	m, err := a.membership()
	if err != nil {
		writeError(w, err)
		return
	}
	members, err := m.Members()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, members)
}

// agentJoin answers PUT /v1/agent/join?address=A&address=B. As Nomad's, a
// join that reached nobody is still a 200 whose "error" says why.
func (a *api) agentJoin(w http.ResponseWriter, r *http.Request) {
	m, err := a.membership()
	if err != nil {
		writeError(w, err)
		return
	}
	addrs := r.URL.Query()["address"]
	if len(addrs) == 0 {
		writeError(w, badRequest("missing address: give ?address=host:port, once per server"))
		return
	}
	n, err := m.Join(addrs)
	out := structs.AgentJoinResponse{NumJoined: n}
	if err != nil {
		if statusOf(err) == http.StatusBadRequest {
			writeError(w, err)
			return
		}
		out.Error = err.Error()
	}
	writeJSON(w, r, out)
}

// agentForceLeave answers PUT /v1/agent/force-leave?node=NAME[&prune=true]
// with an empty 200.
func (a *api) agentForceLeave(w http.ResponseWriter, r *http.Request) {
	m, err := a.membership()
	if err != nil {
		writeError(w, err)
		return
	}
	node := r.URL.Query().Get("node")
	if node == "" {
		writeError(w, badRequest("missing node: give ?node=NAME, a server's member name"))
		return
	}
	prune, err := boolParam(r, "prune")
	if err != nil {
		writeError(w, err)
		return
	}
	if err := m.ForceLeave(node, prune); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
