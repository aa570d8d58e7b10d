package http

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/drover-project/drover/structs"
)

// Operator is what the /v1/operator routes need of the server: the Raft
// configuration and snapshots. Leader-only calls go to the leader.
type Operator interface {
	RaftConfiguration(ctx context.Context) (*structs.RaftConfiguration, error)
	// RemoveRaftPeer removes the server named by exactly one of address and id.
	RemoveRaftPeer(ctx context.Context, address, id string) error
	// TransferLeadership hands leadership to the server with id, or to
	// the most up-to-date follower when id is "".
	TransferLeadership(ctx context.Context, id string) error
	// SnapshotSave writes a snapshot archive to w (the leader's state
	// unless stale) and returns its index.
	SnapshotSave(ctx context.Context, w io.Writer, stale bool) (uint64, error)
	// SnapshotRestore replaces the cluster state with an archive's.
	SnapshotRestore(ctx context.Context, r io.Reader) error
}

// errNoOperator answers operator routes on an agent that runs no server.
var errNoOperator = errors.New("this agent runs no server: send operator requests to a server agent's HTTP API")

func (a *api) registerOperator(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/operator/raft/configuration", a.operator(a.raftConfiguration))
	mux.HandleFunc("DELETE /v1/operator/raft/peer", a.operator(a.raftRemovePeer))
	mux.HandleFunc("PUT /v1/operator/raft/transfer-leadership", a.operator(a.raftTransferLeadership))
	mux.HandleFunc("POST /v1/operator/raft/transfer-leadership", a.operator(a.raftTransferLeadership))
	mux.HandleFunc("GET /v1/operator/snapshot", a.operator(a.snapshotSave))
	mux.HandleFunc("PUT /v1/operator/snapshot", a.operator(a.snapshotRestore))
	mux.HandleFunc("POST /v1/operator/snapshot", a.operator(a.snapshotRestore))
}

// operator answers 500 on an agent without a server, and otherwise calls h.
func (a *api) operator(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.Operator == nil {
			writeError(w, errNoOperator)
			return
		}
		h(w, r)
	}
}

func (a *api) raftConfiguration(w http.ResponseWriter, r *http.Request) {
	conf, err := a.Operator.RaftConfiguration(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(max(conf.Index, 1), 10))
	writeJSON(w, r, conf)
}

func (a *api) raftRemovePeer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	address, id := q.Get("address"), q.Get("id")
	if (address == "") == (id == "") {
		writeError(w, badRequest("name the peer to remove with exactly one of ?address= and ?id="))
		return
	}
	if err := a.Operator.RemoveRaftPeer(r.Context(), address, id); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (a *api) raftTransferLeadership(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("id")
	if addr := q.Get("address"); addr != "" {
		if id != "" {
			writeError(w, badRequest("name the new leader with at most one of ?address= and ?id="))
			return
		}
		var err error
		if id, err = a.peerIDByAddress(r.Context(), addr); err != nil {
			writeError(w, err)
			return
		}
	}
	if err := a.Operator.TransferLeadership(r.Context(), id); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, struct{}{})
}

func (a *api) peerIDByAddress(ctx context.Context, addr string) (string, error) {
	conf, err := a.Operator.RaftConfiguration(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range conf.Servers {
		if s.Address == addr {
			return s.ID, nil
		}
	}
	return "", notFound("no raft peer has address %q", addr)
}

// snapshotSave streams the archive. Once the body has started an error can
// no longer change the status: the archive is then cut short, which its
// gzip and checksums make evident to the reader.
func (a *api) snapshotSave(w http.ResponseWriter, r *http.Request) {
	stale := false
	if r.URL.Query().Has("stale") {
		var err error
		if stale, err = parseBool(r.URL.Query().Get("stale"), true); err != nil {
			writeError(w, badRequest("invalid stale %q: want true or false", r.URL.Query().Get("stale")))
			return
		}
	}
	sw := &startedWriter{w: w}
	// The archive's index is inside it (see inspect); once streaming it is
	// too late for a header.
	if _, err := a.Operator.SnapshotSave(r.Context(), sw, stale); err != nil {
		if !sw.started {
			writeError(w, err)
			return
		}
		a.Logger.Error("snapshot: stream cut short", "error", err)
		panic(http.ErrAbortHandler) // drop the connection: the client must not take a partial file for a whole one
	}
}

// startedWriter sets the response headers when the first byte of the
// archive is written, so that an error before it can still answer a status.
type startedWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.w.Header().Set("Content-Type", "application/x-gzip")
	}
	return s.w.Write(p)
}

func (a *api) snapshotRestore(w http.ResponseWriter, r *http.Request) {
	if err := a.Operator.SnapshotRestore(r.Context(), r.Body); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, struct{}{})
}
