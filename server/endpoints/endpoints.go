// Package endpoints handles requests to the control plane: it validates
// them, fills in what Raft must not compute (IDs, times), and commits them
// through Raft; reads come from the state store, as blocking queries when
// asked. The HTTP API and clients both come through here.
package endpoints

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/evalbroker"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/nodes"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// Deps are the parts of the server the endpoints use.
type Deps struct {
	Apply      func(t fsm.MessageType, req any) (uint64, error)
	State      func() *state.StateStore
	Leader     func() string
	Peers      func() ([]string, error)
	IsLeader   func() bool
	Blocked    *evalbroker.Blocked
	Heartbeats *nodes.Heartbeats
	Region     string
	Logger     *slog.Logger
	// Now is the clock for submit and modify times (time.Now when nil).
	Now func() time.Time

	// Forward calls method on the server at addr (the leader); nil answers
	// everything locally, as a lone server may.
	Forward func(ctx context.Context, addr, method string, args, reply any) error
	// LastContact is how long ago this server last heard from the leader
	// (0 on the leader); nil reports 0.
	LastContact func() time.Duration
	// LeaderWait is how long a request waits for a leader to be elected
	// (5 s when zero).
	LeaderWait time.Duration
}

// Endpoints serves requests.
type Endpoints struct {
	d   Deps
	log *slog.Logger
}

// New returns the endpoints.
func New(d Deps) *Endpoints {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Endpoints{d: d, log: d.Logger}
}

// Limits of blocking queries, as Nomad's.
const (
	defaultQueryWait = 5 * time.Minute
	maxQueryWait     = 5 * time.Minute
)

// query runs a read, blocking until its index passes q.MinQueryIndex when
// asked, and fills the meta the HTTP layer turns into headers.
func (e *Endpoints) query(ctx context.Context, q *structs.QueryOptions, run func(ws memdb.WatchSet, s *state.StateStore) (uint64, error)) (structs.QueryMeta, error) {
	if q == nil {
		q = &structs.QueryOptions{}
	}
	wait := q.MaxQueryTime
	if wait <= 0 || wait > maxQueryWait {
		wait = defaultQueryWait
	}
	// Jitter, as Nomad's: many clients that started together do not all
	// come back at the same moment.
	wait += rand.N(wait/16 + 1)
	var index uint64
	err := e.d.State().BlockingQuery(ctx, q.MinQueryIndex, wait, func(ws memdb.WatchSet, s *state.StateStore) (uint64, error) {
		i, err := run(ws, s)
		index = i
		return i, err
	})
	if index == 0 {
		index = 1 // Nomad never answers index 0: clients would spin
	}
	meta := structs.QueryMeta{Index: index, KnownLeader: e.d.Leader() != ""}
	if e.d.LastContact != nil && !e.d.IsLeader() {
		meta.LastContact = e.d.LastContact()
	}
	return meta, err
}

func namespaceOf(q *structs.QueryOptions) string {
	if q == nil || q.Namespace == "" {
		return structs.DefaultNamespace
	}
	return q.Namespace
}

func tableIndex(s *state.StateStore, tables ...string) (uint64, error) {
	var max uint64
	for _, t := range tables {
		i, err := s.Index(t)
		if err != nil {
			return 0, err
		}
		if i > max {
			max = i
		}
	}
	return max, nil
}

// Leader is the leader's RPC address.
func (e *Endpoints) Leader() string { return e.d.Leader() }

// Peers lists the Raft voters.
func (e *Endpoints) Peers() ([]string, error) { return e.d.Peers() }

func (e *Endpoints) now() int64 { return e.d.Now().UnixNano() }
