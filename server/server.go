// Package server is the control plane of one region: Raft, the state
// machine, and the leader-only parts (evaluation broker, plan applier,
// heartbeat timers, scheduling workers) that start when this server gains
// leadership and stop when it loses it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/server/endpoints"
	"github.com/drover-project/drover/server/evalbroker"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/nodes"
	"github.com/drover-project/drover/server/planapply"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// Config of one server.
type Config struct {
	// NodeName names this server among its peers.
	NodeName   string
	Region     string
	Datacenter string
	// DataDir holds raft/ (log, stable store, snapshots) and the server ID.
	DataDir string
	// RPCAddr is where Raft and internal RPC listen ("127.0.0.1:4747").
	RPCAddr string
	// RPCAdvertise is the address peers dial; nil means RPCAddr.
	RPCAdvertise net.Addr
	// Bootstrap makes a single server form its own cluster (dev mode).
	Bootstrap bool
	// DevMode shortens Raft timeouts for a one-process cluster.
	DevMode bool
	// NumSchedulers is how many scheduling workers run on the leader.
	NumSchedulers int
	// HeartbeatTTL is how long a client may stay silent before it is down.
	HeartbeatTTL time.Duration
	Logger       *slog.Logger
}

// Server is one running server.
type Server struct {
	cfg Config
	log *slog.Logger

	mux       *rpc.Mux
	raft      *raft.Raft
	raftStore *raftboltdb.BoltStore
	transport *raft.NetworkTransport
	fsm       *fsm.FSM
	// leaderCh receives true on gaining and false on losing leadership.
	leaderCh chan bool

	broker     *evalbroker.Broker
	blocked    *evalbroker.Blocked
	planner    *planapply.Applier
	heartbeats *nodes.Heartbeats
	endpoints  *endpoints.Endpoints

	// leaderCancel stops the leader-only goroutines.
	leaderMu     sync.Mutex
	leaderCancel context.CancelFunc
	leaderWG     sync.WaitGroup

	shutdownOnce sync.Once
	shutdownCh   chan struct{}
	wg           sync.WaitGroup
}

// New starts a server: it opens the Raft stores, joins or bootstraps the
// cluster, and watches for leadership.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = logging.Discard()
	}
	if cfg.NumSchedulers <= 0 {
		cfg.NumSchedulers = 2
	}
	if cfg.HeartbeatTTL == 0 {
		cfg.HeartbeatTTL = 10 * time.Second
	}
	if cfg.Region == "" {
		cfg.Region = "global"
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "server"), shutdownCh: make(chan struct{})}

	s.fsm = fsm.New(cfg.Logger.With("component", "fsm"))
	s.broker = evalbroker.New(evalbroker.Config{OnFailed: s.evalDeliveryFailed})
	s.blocked = evalbroker.NewBlocked(s.broker)
	s.fsm.SetEvalSink(func(evals []*structs.Evaluation) { s.broker.Enqueue(evals...) })
	s.planner = planapply.New(s.apply, s.fsm.State, cfg.Logger.With("component", "planapply"), time.Now)
	s.heartbeats = nodes.NewHeartbeats(cfg.HeartbeatTTL, s.nodeHeartbeatExpired, cfg.Logger.With("component", "heartbeat"))
	s.endpoints = endpoints.New(endpoints.Deps{
		Apply:      s.apply,
		State:      s.fsm.State,
		Leader:     s.Leader,
		Peers:      s.Peers,
		IsLeader:   s.IsLeader,
		Blocked:    s.blocked,
		Heartbeats: s.heartbeats,
		Region:     cfg.Region,
		Logger:     cfg.Logger.With("component", "endpoints"),
	})

	if err := s.setupRaft(); err != nil {
		s.closeRaft()
		return nil, err
	}
	s.wg.Add(1)
	go s.monitorLeadership()
	return s, nil
}

func (s *Server) setupRaft() error {
	dir := filepath.Join(s.cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("server: data dir: %w", err)
	}
	id, err := loadOrCreateID(filepath.Join(s.cfg.DataDir, "server-id"))
	if err != nil {
		return err
	}

	mux, err := rpc.Listen(s.cfg.RPCAddr, s.cfg.RPCAdvertise, s.cfg.Logger.With("component", "rpc"))
	if err != nil {
		return err
	}
	s.mux = mux
	hlog := logging.HCLog(s.cfg.Logger, "raft")
	s.transport = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  mux.RaftLayer(),
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  hlog,
	})

	s.raftStore, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return fmt.Errorf("server: open raft log: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hlog)
	if err != nil {
		return fmt.Errorf("server: open snapshot store: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(id)
	rc.Logger = hlog
	s.leaderCh = make(chan bool, 8)
	rc.NotifyCh = s.leaderCh
	rc.SnapshotThreshold = 8192
	rc.SnapshotInterval = 120 * time.Second
	rc.TrailingLogs = 10240
	if s.cfg.DevMode {
		// One voter: nobody to wait for, so elections can be quick.
		rc.HeartbeatTimeout = 200 * time.Millisecond
		rc.ElectionTimeout = 200 * time.Millisecond
		rc.LeaderLeaseTimeout = 100 * time.Millisecond
		rc.CommitTimeout = 5 * time.Millisecond
	}

	if s.cfg.Bootstrap {
		existing, err := raft.HasExistingState(s.raftStore, s.raftStore, snaps)
		if err != nil {
			return fmt.Errorf("server: read raft state: %w", err)
		}
		if !existing {
			conf := raft.Configuration{Servers: []raft.Server{{
				ID: rc.LocalID, Address: raft.ServerAddress(mux.Advertise().String()), Suffrage: raft.Voter,
			}}}
			if err := raft.BootstrapCluster(rc, s.raftStore, s.raftStore, snaps, s.transport, conf); err != nil {
				return fmt.Errorf("server: bootstrap raft: %w", err)
			}
		}
	}
	s.raft, err = raft.NewRaft(rc, s.fsm, s.raftStore, s.raftStore, snaps, s.transport)
	if err != nil {
		return fmt.Errorf("server: start raft: %w", err)
	}
	return nil
}

func loadOrCreateID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if id := string(b); uuid.Validate(id) == nil {
			return id, nil
		}
		return "", fmt.Errorf("server: %s does not hold a valid ID", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("server: read ID: %w", err)
	}
	id := uuid.NewString()
	if err := os.WriteFile(path, []byte(id), 0o600); err != nil {
		return "", fmt.Errorf("server: write ID: %w", err)
	}
	return id, nil
}

// Endpoints is the request API of this server.
func (s *Server) Endpoints() *endpoints.Endpoints { return s.endpoints }

// State is the current state store (replaced wholesale by a snapshot restore).
func (s *Server) State() *state.StateStore { return s.fsm.State() }

// RPCAddr is the address peers and clients reach this server on.
func (s *Server) RPCAddr() string { return s.mux.Advertise().String() }

// IsLeader reports whether this server leads the cluster.
func (s *Server) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader is the leader's RPC address, or "".
func (s *Server) Leader() string {
	addr, _ := s.raft.LeaderWithID()
	return string(addr)
}

// Peers lists the addresses of the Raft voters.
func (s *Server) Peers() ([]string, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []string
	for _, srv := range f.Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			out = append(out, string(srv.Address))
		}
	}
	return out, nil
}

// apply commits one log entry and returns its index.
func (s *Server) apply(t fsm.MessageType, req any) (uint64, error) {
	if s.raft.State() != raft.Leader {
		// Forwarding to the leader arrives with multi-server clusters.
		return 0, fmt.Errorf("%w: this server is not the leader", structs.ErrNoLeader)
	}
	buf, err := fsm.Encode(t, req)
	if err != nil {
		return 0, err
	}
	f := s.raft.Apply(buf, 30*time.Second)
	if err := f.Error(); err != nil {
		return 0, fmt.Errorf("raft apply: %w", err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return 0, err
	}
	return f.Index(), nil
}

// Shutdown stops the server. It is safe to call more than once.
func (s *Server) Shutdown() error {
	var err error
	s.shutdownOnce.Do(func() {
		close(s.shutdownCh)
		s.revokeLeadership()
		if s.raft != nil {
			err = s.raft.Shutdown().Error()
		}
		s.wg.Wait()
		s.closeRaft()
	})
	return err
}

func (s *Server) closeRaft() {
	if s.transport != nil {
		s.transport.Close()
	}
	if s.mux != nil {
		s.mux.Close()
	}
	if s.raftStore != nil {
		s.raftStore.Close()
	}
}
