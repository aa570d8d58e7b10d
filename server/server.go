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
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/drover-project/drover/internal/logging"
	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/server/endpoints"
	"github.com/drover-project/drover/server/evalbroker"
	"github.com/drover-project/drover/server/fsm"
	"github.com/drover-project/drover/server/membership"
	"github.com/drover-project/drover/server/nodes"
	"github.com/drover-project/drover/server/planapply"
	"github.com/drover-project/drover/server/raftlog"
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
	// NumSchedulers is how many scheduling workers run on the leader; 0
	// means one per core (runtime.NumCPU).
	NumSchedulers int
	// HeartbeatTTL is how long a client may stay silent before it is down.
	HeartbeatTTL time.Duration
	// HTTPAdvertise is the HTTP API address ("ip:port") gossiped to client
	// agents, which forward the API requests they cannot answer there.
	HTTPAdvertise string
	// Heartbeat, when its MinTTL is set, replaces HeartbeatTTL with a TTL
	// that scales with the cluster plus a grace period
	// (server/nodes.HeartbeatPolicy; agent: min_heartbeat_ttl, heartbeat_grace).
	Heartbeat nodes.HeartbeatPolicy
	Logger    *slog.Logger

	// Raft snapshots and log truncation: a snapshot is taken when this many
	// entries are past the last one (checked every interval, with jitter),
	// and that many entries stay in the log after it, so a follower a little
	// behind catches up from the log instead of a whole snapshot. Zero
	// keeps the defaults (8192, 120 s, 10240).
	RaftSnapshotThreshold uint64
	RaftSnapshotInterval  time.Duration
	RaftTrailingLogs      uint64

	// BootstrapExpect is how many servers form the first Raft configuration
	// together: each waits in gossip until that many servers without Raft
	// state are present (membership.go). Unused when Bootstrap is set; 0
	// waits to be added to an existing cluster by its leader.
	BootstrapExpect int
	// Gossip says where this server gossips and whom it joins. An empty
	// BindAddr means the host of RPCAddr.
	Gossip GossipConfig
	// RaftMultiplier scales the Raft timeouts of a multi-server cluster
	// (see clusterRaftTimeouts); 0 means 1.
	RaftMultiplier int
	// Autopilot is the leader's peer cleanup; nil means DefaultAutopilotConfig.
	Autopilot *AutopilotConfig
}

// Server is one running server.
type Server struct {
	cfg Config
	log *slog.Logger

	mux       *rpc.Mux
	rpcServer *rpc.Server
	rpcPool   *rpc.Pool
	raft      *raft.Raft
	raftStore *raftboltdb.BoltStore
	// raftLog is the Raft log: a *raftlog.Store, or raftStore in a data
	// dir whose raft.db already held the log (openRaftLog).
	raftLog   raft.LogStore
	transport *raft.NetworkTransport
	fsm       *fsm.FSM
	// applier hands log entries to raft (applier.go).
	applier *applier
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

	// localID is this server's Raft ID.
	localID raft.ServerID
	// members is the region's gossip pool; autopilot manages Raft peers
	// from it on the leader (membership.go, autopilot.go).
	members            *membership.Pool
	autopilot          *autopilot
	publishedRaftState string
	loggedOnce         map[string]bool

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
		// As Nomad's num_schedulers: one worker per core by default.
		cfg.NumSchedulers = runtime.NumCPU()
	}
	if cfg.HeartbeatTTL == 0 {
		cfg.HeartbeatTTL = 10 * time.Second
	}
	if cfg.Region == "" {
		cfg.Region = "global"
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "server"), shutdownCh: make(chan struct{}), rpcPool: rpc.NewPool()}
	tuneGC(s.log)

	s.fsm = fsm.New(cfg.Logger.With("component", "fsm"))
	s.broker = evalbroker.New(evalbroker.Config{OnFailed: s.evalDeliveryFailed})
	s.blocked = evalbroker.NewBlocked(s.broker)
	s.fsm.SetEvalSink(func(evals []*structs.Evaluation) { s.broker.Enqueue(evals...) })
	s.planner = planapply.New(s.apply, s.fsm.State, cfg.Logger.With("component", "planapply"), time.Now)
	s.heartbeats = nodes.NewHeartbeats(cfg.HeartbeatTTL, s.nodeHeartbeatExpired, cfg.Logger.With("component", "heartbeat"))
	if cfg.Heartbeat.MinTTL > 0 {
		s.heartbeats = nodes.NewHeartbeatsWithPolicy(cfg.Heartbeat, s.nodeHeartbeatExpired, cfg.Logger.With("component", "heartbeat"))
	}
	s.endpoints = endpoints.New(endpoints.Deps{
		Apply:       s.apply,
		State:       s.fsm.State,
		Leader:      s.Leader,
		Peers:       s.Peers,
		IsLeader:    s.IsLeader,
		Blocked:     s.blocked,
		Heartbeats:  s.heartbeats,
		Region:      cfg.Region,
		Logger:      cfg.Logger.With("component", "endpoints"),
		Forward:     s.forwardRPC,
		LastContact: s.lastContact,
	})

	if err := s.setupRaft(); err != nil {
		s.closeRaft()
		return nil, err
	}
	s.startRPC()
	s.wg.Add(1)
	go s.monitorLeadership()
	if err := s.setupMembership(); err != nil {
		s.Shutdown()
		return nil, err
	}
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
		// 1 turns off pipelined replication: raft v1.7.3's pipeline can
		// deadlock. When a follower rejects an append or answers with a
		// newer term (as after a partition) raft's decoder goroutine
		// quits, the transport's response reader then blocks handing it
		// the next answer, and a send racing with that quit blocks
		// behind the reader; nothing closes the pipeline. Replication to that follower stops for
		// good (heartbeats go on, so nobody notices) and raft.Shutdown
		// waits on it forever (hashicorp/raft issue 612). Each append is
		// then one request and answer, carrying every entry up to
		// MaxAppendEntries that queued meanwhile.
		MaxRPCsInFlight: 1,
	})

	// raft.db holds the stable store (term, vote) and, in data dirs from
	// before raftlog, the log.
	s.raftStore, err = raftboltdb.New(raftboltdb.Options{
		Path: filepath.Join(dir, "raft.db"),
		BoltOptions: &bbolt.Options{
			// Every commit still fsyncs its pages and its meta page, so
			// nothing acknowledged is lost; only the free-page list is
			// not written each time (bbolt rebuilds it by scanning the
			// file when it opens). That saves a page write per commit,
			// and a Raft log commits on every append.
			NoFreelistSync: true,
			FreelistType:   bbolt.FreelistMapType,
		},
	})
	if err != nil {
		return fmt.Errorf("server: open raft log: %w", err)
	}
	if s.raftLog, err = openRaftLog(dir, s.raftStore, s.cfg.Logger); err != nil {
		return err
	}
	// Recent entries stay in memory, so replication to the followers reads
	// them from there instead of from disk.
	logs, err := raft.NewLogCache(raftLogCacheSize, s.raftLog)
	if err != nil {
		return fmt.Errorf("server: raft log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hlog)
	if err != nil {
		return fmt.Errorf("server: open snapshot store: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(id)
	s.localID = rc.LocalID
	rc.Logger = hlog
	s.leaderCh = make(chan bool, 8)
	rc.NotifyCh = s.leaderCh
	rc.SnapshotThreshold = 8192
	rc.SnapshotInterval = 120 * time.Second
	rc.TrailingLogs = 10240
	s.applyRaftSnapshotConfig(rc)
	raftBatching(rc)
	if s.cfg.DevMode {
		// One voter: nobody to wait for, so elections can be quick.
		rc.HeartbeatTimeout = 200 * time.Millisecond
		rc.ElectionTimeout = 200 * time.Millisecond
		rc.LeaderLeaseTimeout = 100 * time.Millisecond
		rc.CommitTimeout = 5 * time.Millisecond
	} else {
		clusterRaftTimeouts(rc, s.cfg.RaftMultiplier)
	}

	if s.cfg.Bootstrap {
		existing, err := raft.HasExistingState(s.raftLog, s.raftStore, snaps)
		if err != nil {
			return fmt.Errorf("server: read raft state: %w", err)
		}
		if !existing {
			conf := raft.Configuration{Servers: []raft.Server{{
				ID: rc.LocalID, Address: raft.ServerAddress(mux.Advertise().String()), Suffrage: raft.Voter,
			}}}
			if err := raft.BootstrapCluster(rc, s.raftLog, s.raftStore, snaps, s.transport, conf); err != nil {
				return fmt.Errorf("server: bootstrap raft: %w", err)
			}
		}
	}
	s.raft, err = raft.NewRaft(rc, s.fsm, logs, s.raftStore, snaps, s.transport)
	if err != nil {
		return fmt.Errorf("server: start raft: %w", err)
	}
	s.applier = newApplier(s.raft, applyTimeout)
	return nil
}

// openRaftLog opens the Raft log in raft/log (package raftlog: segment
// files, one fdatasync per append where a bbolt commit costs two). A data
// dir from before raftlog, whose raft.db holds log entries, keeps its log
// there.
func openRaftLog(dir string, bolt *raftboltdb.BoltStore, logger *slog.Logger) (raft.LogStore, error) {
	logDir := filepath.Join(dir, "log")
	if _, err := os.Stat(logDir); errors.Is(err, os.ErrNotExist) {
		last, err := bolt.LastIndex()
		if err != nil {
			return nil, fmt.Errorf("server: read raft log: %w", err)
		}
		if last > 0 {
			logger.Info("raft log stays in raft.db, where this data dir has it", "last_index", last)
			return bolt, nil
		}
	}
	st, err := raftlog.Open(logDir, raftlog.Options{Logger: logger.With("component", "raftlog")})
	if err != nil {
		return nil, fmt.Errorf("server: open raft log: %w", err)
	}
	return st, nil
}

// clusterRaftTimeouts are chosen for failover: a follower notices a dead
// leader after 0.5-1 s without heartbeats (raft randomizes between one and
// two HeartbeatTimeouts; the leader sends one every tenth of it) and a new
// leader is elected within ~1.5 s, where raft's defaults take up to 2-3 s.
// The multiplier (Nomad's raft_multiplier) slows everything down for
// loaded or distant machines.
func clusterRaftTimeouts(rc *raft.Config, multiplier int) {
	m := time.Duration(max(multiplier, 1))
	rc.HeartbeatTimeout = 500 * time.Millisecond * m
	rc.ElectionTimeout = 500 * time.Millisecond * m
	rc.LeaderLeaseTimeout = 500 * time.Millisecond * m
}

// The Go garbage collector's target (GOGC) of a server process, unless the
// GOGC environment variable says otherwise. A server allocates for every
// write it applies (decoding the entry, copying radix-tree nodes of the
// state store) while it holds the whole state in memory, so with Go's
// default of 100 the collector took a quarter to a half of its CPU under
// write load. The higher the target, the less the collector works (it
// runs once per target's worth of allocation, and each run costs about the
// live heap), but the more memory it lets the heap take: live × (1 +
// target/100). So the target follows the live heap, measured after each
// collection: the one whose heap fills gcHeapBudget, at most
// smallHeapGCPercent and at least serverGCPercent. A small state gets the
// cheap collections of a high target within the budget; a large one keeps
// serverGCPercent, never collected more often than with it (a fixed memory
// limit would be, as the live heap neared the limit).
// `make bench-cluster` prints the servers' peak RSS next to their CPU per
// registration; `make bench-scheduler` the leader's RSS with 5,000
// allocations.
const (
	serverGCPercent    = 200
	smallHeapGCPercent = 400
	gcHeapBudget       = 256 << 20
)

// gcPercentFor is the target for a live heap of live bytes, in steps of 25
// so that small changes of the heap do not reset it after every collection.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return smallHeapGCPercent
	}
	pct := int(min(100*(gcHeapBudget/float64(live)-1), smallHeapGCPercent))
	return max(pct/25*25, serverGCPercent)
}

var gcTunerOnce sync.Once

// tuneGC starts following the live heap with the target (once per
// process: the collector is the process's), unless the operator set GOGC.
// An operator's GOMEMLIMIT still caps the heap: the runtime collects at
// whichever of the two bounds comes first.
func tuneGC(log *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Debug("garbage collector target set by GOGC", "gogc", v)
		return
	}
	gcTunerOnce.Do(func() {
		debug.SetGCPercent(smallHeapGCPercent)
		t := &gcTuner{current: smallHeapGCPercent, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
		runtime.SetFinalizer(t, (*gcTuner).afterGC)
	})
}

// gcTuner sets the target after each collection. It is its own trigger:
// unreachable, its finalizer runs once a collection has finished, and sets
// itself again for the next one.
type gcTuner struct {
	current int
	sample  []metrics.Sample
}

func (t *gcTuner) afterGC() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		if pct := gcPercentFor(t.sample[0].Value.Uint64()); pct != t.current {
			debug.SetGCPercent(pct)
			t.current = pct
		}
	}
	runtime.SetFinalizer(t, (*gcTuner).afterGC)
}

// raftLogCacheSize is how many recent log entries stay in memory.
const raftLogCacheSize = 1024

// raftBatching lets the leader group the writes that arrive together: up
// to MaxAppendEntries waiting applies go into one append to the log (one
// fsync) and one AppendEntries to each follower, and the apply channel is
// buffered so that writers queue there while the log is being synced.
// Each entry is still committed by a quorum before its Apply returns.
func raftBatching(rc *raft.Config) {
	rc.MaxAppendEntries = 256
	rc.BatchApplyCh = true
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

// Shutdown stops the server. It is safe to call more than once.
func (s *Server) Shutdown() error {
	var err error
	s.shutdownOnce.Do(func() {
		// The order matters: closing shutdownCh first aborts a leadership
		// being established (its raft barrier wait and its start under
		// leaderMu); the leader's goroutines are then stopped while raft
		// still runs, since raft never answers a future queued while it
		// shuts down; only then is raft stopped.
		close(s.shutdownCh)
		s.stopRPC()
		s.revokeLeadership()
		stopped := true
		if s.raft != nil {
			stopped, err = s.shutdownRaft()
		}
		s.wg.Wait()
		s.shutdownMembership()
		if stopped {
			s.closeRaft()
		}
	})
	return err
}

// raftShutdownGrace is how long raft may take to stop on its own before
// its connections are closed under it; raftShutdownLimit bounds the wait
// after that.
const (
	raftShutdownGrace = 2 * time.Second
	raftShutdownLimit = 10 * time.Second
)

// shutdownRaft stops raft. raft.Shutdown waits for the replication
// goroutines, and each may be in a call to a peer that no longer answers
// (a partition): up to the transport's 10 s timeout for the dial and as
// much again for the call. Closing the transport closes those connections
// and cancels the dials, so the calls fail at once. stopped is false when
// raft still had not stopped; its stores are then left open, since its
// goroutines may still use them.
func (s *Server) shutdownRaft() (stopped bool, err error) {
	done := make(chan error, 1)
	go func() { done <- s.raft.Shutdown().Error() }()
	grace := time.NewTimer(raftShutdownGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return true, err
	case <-grace.C:
	}
	s.log.Warn("raft is slow to stop; closing its connections", "waited", raftShutdownGrace)
	s.transport.Close()
	limit := time.NewTimer(raftShutdownLimit)
	defer limit.Stop()
	select {
	case err := <-done:
		return true, err
	case <-limit.C:
		s.log.Error("raft did not stop; leaving it", "waited", raftShutdownGrace+raftShutdownLimit)
		return false, fmt.Errorf("server: raft did not stop within %s", raftShutdownGrace+raftShutdownLimit)
	}
}

func (s *Server) closeRaft() {
	if s.transport != nil {
		s.transport.Close()
	}
	if s.mux != nil {
		s.mux.Close()
	}
	if st, ok := s.raftLog.(*raftlog.Store); ok {
		st.Close()
	}
	if s.raftStore != nil {
		s.raftStore.Close()
	}
}
