// Package nodesim simulates many client nodes in one process, for
// benchmarks of the scheduler against real servers. Each simulated node
// talks to the servers over their RPC port exactly as a client agent does
// (internal/rpc, "Endpoints.<Method>"): it registers (status
// "initializing"), asks for its allocations with a blocking query
// (NodeAllocations), beats "ready" once it has its first answer and then
// at half its TTL (Heartbeat; a node the servers no longer know registers
// again), and reports every allocation it is given as running, and every
// one it is told to stop as complete (UpdateAllocations).
//
// What makes it light, so that it does not take the machine from the
// servers it measures:
//   - one goroutine per node, parked in its blocking query (what a real
//     client's server would see: one outstanding query per node); it only
//     wakes when the node's allocations change;
//   - one goroutine schedules every heartbeat (a timer heap) and sends
//     each from a short-lived goroutine, at most beatsInFlight at once;
//   - one goroutine batches every allocation update of every node into
//     UpdateAllocations calls of up to UpdateBatch allocations;
//   - replies are decoded into small structs that keep only the fields the
//     simulator reads.
//
// CPU reports the process's CPU time (getrusage), so a benchmark can
// print the simulator's share of the machine.
package nodesim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/internal/rpc"
	"github.com/drover-project/drover/structs"
)

// DriverName is the driver every simulated node offers, healthy.
const DriverName = "mock_driver"

// Class is one kind of simulated machine. Nodes are dealt round-robin
// over the classes.
type Class struct {
	// Name is the node class (node_class in a client's config).
	Name string
	// Cores and CPU (total MHz), MemoryMB and DiskMB are what it offers.
	Cores    int
	CPU      int64
	MemoryMB int64
	DiskMB   int64
	// ReservedCPU and ReservedMemoryMB are held back for the OS.
	ReservedCPU      int64
	ReservedMemoryMB int64
	// Kernel is attr.kernel.name; Meta is added to the node's meta.
	Kernel string
	Meta   map[string]string
}

// DefaultClasses are four machine sizes of the kind a fleet holds.
func DefaultClasses() []Class {
	return []Class{
		{Name: "small", Cores: 4, CPU: 4 * 2500, MemoryMB: 8 * 1024, DiskMB: 100 * 1024, ReservedCPU: 200, ReservedMemoryMB: 256, Kernel: "linux", Meta: map[string]string{"rack": "r1"}},
		{Name: "medium", Cores: 8, CPU: 8 * 2500, MemoryMB: 16 * 1024, DiskMB: 200 * 1024, ReservedCPU: 200, ReservedMemoryMB: 512, Kernel: "linux", Meta: map[string]string{"rack": "r2"}},
		{Name: "large", Cores: 16, CPU: 16 * 2500, MemoryMB: 64 * 1024, DiskMB: 500 * 1024, ReservedCPU: 400, ReservedMemoryMB: 1024, Kernel: "linux", Meta: map[string]string{"rack": "r3"}},
		{Name: "storage", Cores: 8, CPU: 8 * 2200, MemoryMB: 32 * 1024, DiskMB: 4000 * 1024, ReservedCPU: 200, ReservedMemoryMB: 512, Kernel: "linux", Meta: map[string]string{"rack": "r4"}},
	}
}

// Config describes the simulated fleet.
type Config struct {
	// Servers are the servers' RPC addresses (host:port). Nodes are dealt
	// over them, as real clients spread over the servers; a node whose
	// server does not answer moves to the next.
	Servers []string
	// Nodes is how many nodes to simulate.
	Nodes int
	// Classes are the machine kinds (DefaultClasses when empty).
	Classes []Class
	// Datacenter (default "dc1"), NodePool (default "default").
	Datacenter string
	NodePool   string
	// Prefix starts every node's name (default "sim"): "sim-00042".
	Prefix string
	// Seed makes node IDs reproducible (0 is a valid seed).
	Seed uint64
	// RegisterParallel is how many registrations are in flight at once
	// (default 16).
	RegisterParallel int
	// UpdateBatch is the most allocations one UpdateAllocations call
	// carries (default 1000); UpdateInterval is how long updates gather
	// before they are sent (default 50ms).
	UpdateBatch    int
	UpdateInterval time.Duration
	// QueryWait is how long one blocking query may wait (default 5m, as
	// a client's).
	QueryWait time.Duration
	// Logger receives errors; nil discards.
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if len(c.Servers) == 0 {
		return errors.New("nodesim: Config.Servers is empty: give the servers' RPC addresses")
	}
	if c.Nodes <= 0 {
		return fmt.Errorf("nodesim: Config.Nodes is %d: simulate at least one node", c.Nodes)
	}
	if len(c.Classes) == 0 {
		c.Classes = DefaultClasses()
	}
	if c.Datacenter == "" {
		c.Datacenter = structs.DefaultDatacenter
	}
	if c.NodePool == "" {
		c.NodePool = "default"
	}
	if c.Prefix == "" {
		c.Prefix = "sim"
	}
	if c.RegisterParallel <= 0 {
		c.RegisterParallel = 16
	}
	if c.UpdateBatch <= 0 {
		c.UpdateBatch = 1000
	}
	if c.UpdateInterval <= 0 {
		c.UpdateInterval = 50 * time.Millisecond
	}
	if c.QueryWait <= 0 {
		c.QueryWait = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Stats counts what the simulator did.
type Stats struct {
	// Nodes registered and beating "ready".
	Registered, Ready int
	// Queries answered (blocking queries that returned).
	Queries int64
	// Heartbeats sent.
	Heartbeats int64
	// Running and Complete are allocations reported in those states.
	Running, Complete int64
	// UpdateCalls is how many UpdateAllocations calls carried them.
	UpdateCalls int64
	// Errors of any call (each is retried).
	Errors int64
}

// Sim is a running simulated fleet.
type Sim struct {
	cfg   Config
	pool  *rpc.Pool
	nodes []*simNode

	cancel context.CancelFunc
	wg     sync.WaitGroup

	registered, ready                            atomic.Int64
	queries, heartbeats, running, complete, errs atomic.Int64
	updateCalls                                  atomic.Int64
	readyCh                                      chan struct{}
	readyOnce                                    sync.Once

	beats   *beatQueue
	updates *updater
}

// simNode is one node. Only its own goroutine touches reported.
type simNode struct {
	node *structs.Node
	// server is the index in Config.Servers this node talks to.
	server atomic.Int32
	// reported is the client status last reported per allocation.
	reported map[string]string
	// ready is set once the node has its first answer (it then beats
	// "ready"); readySent once such a beat succeeded.
	ready, readySent atomic.Bool
}

// Start builds the nodes, registers them all and starts their loops. It
// returns once every node is registered; Ready tells when every node has
// beaten "ready". Stop ends the simulation.
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, pool: rpc.NewPool(), readyCh: make(chan struct{})}
	ids := rand.NewChaCha8(seedBytes(cfg.Seed))
	for i := range cfg.Nodes {
		n := &simNode{node: buildNode(cfg, i, ids), reported: map[string]string{}}
		n.server.Store(int32(i % len(cfg.Servers)))
		s.nodes = append(s.nodes, n)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.beats = newBeatQueue()
	s.updates = newUpdater(s)

	if err := s.registerAll(ctx); err != nil {
		cancel()
		s.pool.Close()
		return nil, err
	}
	s.wg.Go(func() { s.beatLoop(runCtx) })
	s.wg.Go(func() { s.updates.run(runCtx) })
	for _, n := range s.nodes {
		s.wg.Go(func() { s.watch(runCtx, n) })
	}
	return s, nil
}

func seedBytes(seed uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
	}
	return b
}

// buildNode makes the i-th node as a client's fingerprint would describe
// it, with the mock driver detected and healthy.
func buildNode(cfg Config, i int, ids io.Reader) *structs.Node {
	class := cfg.Classes[i%len(cfg.Classes)]
	id, err := uuid.NewRandomFromReader(ids)
	if err != nil {
		panic(err) // a ChaCha8 reader does not fail
	}
	secret, err := uuid.NewRandomFromReader(ids)
	if err != nil {
		panic(err)
	}
	name := fmt.Sprintf("%s-%05d", cfg.Prefix, i)
	ip := fmt.Sprintf("10.%d.%d.%d", (i>>16)&0xff, (i>>8)&0xff, i&0xff)
	attrs := map[string]string{
		"kernel.name":               class.Kernel,
		"kernel.version":            "6.1.0",
		"os.name":                   "debian",
		"os.version":                "12",
		"cpu.arch":                  "amd64",
		"cpu.numcores":              fmt.Sprint(class.Cores),
		"cpu.totalcompute":          fmt.Sprint(class.CPU),
		"memory.totalbytes":         fmt.Sprint(class.MemoryMB << 20),
		"unique.hostname":           name,
		"unique.network.ip-address": ip,
		"driver." + DriverName:      "1",
		"driver.mock.version":       "1",
		"nomad.version":             "drover-nodesim",
	}
	meta := map[string]string{"sim": "true"}
	for k, v := range class.Meta {
		meta[k] = v
	}
	return &structs.Node{
		ID:         id.String(),
		SecretID:   secret.String(),
		Datacenter: cfg.Datacenter,
		Name:       name,
		HTTPAddr:   ip + ":4646",
		Attributes: attrs,
		NodeResources: &structs.NodeResources{
			Cpu:            structs.NodeCpuResources{CpuShares: class.CPU, TotalCpuCores: class.Cores},
			Memory:         structs.NodeMemoryResources{MemoryMB: class.MemoryMB},
			Disk:           structs.NodeDiskResources{DiskMB: class.DiskMB},
			Networks:       []*structs.NetworkResource{{Mode: "host", IP: ip}},
			MinDynamicPort: structs.DefaultMinDynamicPort,
			MaxDynamicPort: structs.DefaultMaxDynamicPort,
		},
		ReservedResources: &structs.NodeReservedResources{
			Cpu:    structs.NodeCpuResources{CpuShares: class.ReservedCPU},
			Memory: structs.NodeMemoryResources{MemoryMB: class.ReservedMemoryMB},
		},
		Drivers: map[string]*structs.DriverInfo{
			DriverName: {Detected: true, Healthy: true, HealthDescription: "Healthy",
				Attributes: map[string]string{"driver.mock.version": "1"}},
		},
		Meta:                  meta,
		NodeClass:             class.Name,
		NodePool:              cfg.NodePool,
		Status:                structs.NodeStatusInit,
		SchedulingEligibility: structs.NodeSchedulingEligible,
	}
}

// call makes one RPC for node n on its server, moving the node to the next
// server when its own cannot be reached (an answer of the server, even an
// error, is returned as is).
func (s *Sim) call(ctx context.Context, n *simNode, method string, args, reply any) error {
	var errs []error
	for range len(s.cfg.Servers) {
		i := int(n.server.Load())
		addr := s.cfg.Servers[i]
		err := s.pool.Call(ctx, addr, "Endpoints."+method, args, reply)
		var remote *rpc.RemoteError
		if err == nil || errors.As(err, &remote) || ctx.Err() != nil {
			return err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		n.server.CompareAndSwap(int32(i), int32((i+1)%len(s.cfg.Servers)))
	}
	return fmt.Errorf("no server answered %s: %w", method, errors.Join(errs...))
}

// registerAll registers every node, RegisterParallel at a time, and
// schedules its first heartbeat at its TTL's half.
func (s *Sim) registerAll(ctx context.Context) error {
	work := make(chan *simNode)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range s.cfg.RegisterParallel {
		wg.Go(func() {
			for n := range work {
				var reply structs.HeartbeatTTLReply
				args := &structs.NodeRegisterArgs{Node: n.node, SecretID: n.node.SecretID}
				err := retry(ctx, 5, func() error { return s.call(ctx, n, "RegisterNode", args, &reply) })
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("nodesim: register %s: %w", n.node.Name, err)
					}
					mu.Unlock()
					continue
				}
				s.registered.Add(1)
				s.beats.push(n, time.Now().Add(half(reply.TTL)))
			}
		})
	}
	for _, n := range s.nodes {
		select {
		case work <- n:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// retry calls fn up to attempts times, waiting a little longer each time.
func retry(ctx context.Context, attempts int, fn func() error) error {
	var err error
	for i := range attempts {
		if err = fn(); err == nil || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(time.Duration(i+1) * 200 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	return err
}

func half(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return ttl / 2
}

// allocView is the part of an allocation the simulator reads; decoding
// into it skips the rest (the job above all).
type allocView struct {
	ID            string
	TaskGroup     string
	DesiredStatus string
	ClientStatus  string
	// Tasks are read from the allocated resources, to report one state each.
	AllocatedResources *struct {
		Tasks map[string]struct{}
	}
}

type allocsReply struct {
	Allocs []allocView
	Index  uint64
}

// watch is node n's blocking query loop: each answer is turned into
// status updates, and the first one makes the node ready.
func (s *Sim) watch(ctx context.Context, n *simNode) {
	var index uint64
	for ctx.Err() == nil {
		var reply allocsReply
		args := &structs.NodeAllocationsArgs{NodeID: n.node.ID, MinIndex: index, Wait: s.cfg.QueryWait}
		if err := s.call(ctx, n, "NodeAllocations", args, &reply); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.errs.Add(1)
			s.cfg.Logger.Warn("allocation query failed", "node", n.node.Name, "error", err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		s.queries.Add(1)
		index = reply.Index
		s.sync(n, reply.Allocs)
		if !n.ready.Load() {
			n.ready.Store(true)
			s.beats.push(n, time.Now()) // tell the servers at once
		}
	}
}

// sync queues what the node reports of the allocations it was given.
func (s *Sim) sync(n *simNode, allocs []allocView) {
	now := time.Now()
	seen := make(map[string]bool, len(allocs))
	for _, a := range allocs {
		seen[a.ID] = true
		want := ""
		switch {
		case a.DesiredStatus == structs.AllocDesiredStatusRun && a.ClientStatus == structs.AllocClientStatusPending:
			want = structs.AllocClientStatusRunning
		case a.DesiredStatus != structs.AllocDesiredStatusRun && !clientTerminal(a.ClientStatus):
			want = structs.AllocClientStatusComplete
		}
		if want == "" || n.reported[a.ID] == want {
			continue
		}
		n.reported[a.ID] = want
		s.updates.add(statusUpdate(a, want, now))
	}
	for id := range n.reported {
		if !seen[id] {
			delete(n.reported, id) // collected by the servers
		}
	}
}

func clientTerminal(status string) bool {
	switch status {
	case structs.AllocClientStatusComplete, structs.AllocClientStatusFailed, structs.AllocClientStatusLost:
		return true
	}
	return false
}

// statusUpdate is what a client sends: the allocation's ID, its client
// status and the state of each task.
func statusUpdate(a allocView, status string, now time.Time) *structs.Allocation {
	states := map[string]*structs.TaskState{}
	var tasks map[string]struct{}
	if a.AllocatedResources != nil {
		tasks = a.AllocatedResources.Tasks
	}
	for name := range tasks {
		st := &structs.TaskState{State: structs.TaskStateRunning, StartedAt: now}
		if status == structs.AllocClientStatusComplete {
			st.State = structs.TaskStateDead
			st.FinishedAt = now
		}
		states[name] = st
	}
	desc := "Tasks are running"
	if status == structs.AllocClientStatusComplete {
		desc = "All tasks have completed"
	}
	return &structs.Allocation{ID: a.ID, ClientStatus: status, ClientDescription: desc, TaskStates: states}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Ready is closed once every node has beaten "ready".
func (s *Sim) Ready() <-chan struct{} { return s.readyCh }

// Stats returns the counts so far.
func (s *Sim) Stats() Stats {
	return Stats{
		Registered: int(s.registered.Load()), Ready: int(s.ready.Load()),
		Queries: s.queries.Load(), Heartbeats: s.heartbeats.Load(),
		Running: s.running.Load(), Complete: s.complete.Load(),
		UpdateCalls: s.updateCalls.Load(), Errors: s.errs.Load(),
	}
}

// NodeIDs returns the simulated nodes' IDs.
func (s *Sim) NodeIDs() []string {
	out := make([]string, len(s.nodes))
	for i, n := range s.nodes {
		out[i] = n.node.ID
	}
	return out
}

// Goroutines is how many goroutines the simulation keeps: one per node for
// its query, the heartbeat scheduler and the update batcher (plus, for a
// moment, one per heartbeat in flight).
func (s *Sim) Goroutines() int { return len(s.nodes) + 2 }

// Stop ends every loop and closes the connections. The nodes are not
// deregistered: the servers mark them down when their TTLs run out.
func (s *Sim) Stop() {
	s.cancel()
	s.pool.Close()
	s.wg.Wait()
}

// CPU is the CPU time (user plus system) this process has used so far.
func CPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// beatsInFlight bounds the heartbeats in flight at once. Each is sent
// from its own short-lived goroutine, so that a slow answer to one node
// does not make the others late (each real client beats on its own).
const beatsInFlight = 128

// beatLoop sends every node's heartbeat when it is due, and schedules the
// next one at half the TTL the server answers.
func (s *Sim) beatLoop(ctx context.Context) {
	slots := make(chan struct{}, beatsInFlight)
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	for {
		n, wait := s.beats.next(time.Now())
		if n != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			inFlight.Go(func() {
				defer func() { <-slots }()
				s.beat(ctx, n)
			})
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.beats.wake:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// beat sends one heartbeat: "ready" once the node has its allocations,
// "initializing" before, as a client.
func (s *Sim) beat(ctx context.Context, n *simNode) {
	status := structs.NodeStatusInit
	if n.ready.Load() {
		status = structs.NodeStatusReady
	}
	var reply structs.HeartbeatTTLReply
	err := s.call(ctx, n, "Heartbeat", &structs.NodeHeartbeatArgs{NodeID: n.node.ID, Status: status}, &reply)
	if errors.Is(err, structs.ErrNotFound) {
		// The servers forgot the node (a restore, a purge): register it
		// again, as a client does.
		node := n.node.Copy()
		node.Status = status
		err = s.call(ctx, n, "RegisterNode", &structs.NodeRegisterArgs{Node: node, SecretID: node.SecretID}, &reply)
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		s.errs.Add(1)
		s.cfg.Logger.Warn("heartbeat failed", "node", n.node.Name, "error", err)
		s.beats.push(n, time.Now().Add(time.Second))
		return
	}
	s.heartbeats.Add(1)
	if status == structs.NodeStatusReady && n.readySent.CompareAndSwap(false, true) {
		if int(s.ready.Add(1)) == len(s.nodes) {
			s.readyOnce.Do(func() { close(s.readyCh) })
		}
	}
	s.beats.push(n, time.Now().Add(half(reply.TTL)))
}

// beatQueue orders the nodes by when their heartbeat is due. A node is in
// it at most once: pushing it again keeps the sooner time.
type beatQueue struct {
	mu   sync.Mutex
	h    beatHeap
	at   map[*simNode]*beatItem
	wake chan struct{}
}

type beatItem struct {
	n     *simNode
	due   time.Time
	index int
}

func newBeatQueue() *beatQueue {
	return &beatQueue{at: map[*simNode]*beatItem{}, wake: make(chan struct{}, 1)}
}

// push schedules n's next beat at due, or sooner if one is scheduled sooner.
func (q *beatQueue) push(n *simNode, due time.Time) {
	q.mu.Lock()
	if it, ok := q.at[n]; ok {
		if due.Before(it.due) {
			it.due = due
			heap.Fix(&q.h, it.index)
		}
	} else {
		it := &beatItem{n: n, due: due}
		q.at[n] = it
		heap.Push(&q.h, it)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next pops the node whose beat is due by now, or says how long to wait.
func (q *beatQueue) next(now time.Time) (*simNode, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.h) == 0 {
		return nil, time.Minute
	}
	it := q.h[0]
	if it.due.After(now) {
		return nil, it.due.Sub(now)
	}
	heap.Pop(&q.h)
	delete(q.at, it.n)
	return it.n, 0
}

type beatHeap []*beatItem

func (h beatHeap) Len() int           { return len(h) }
func (h beatHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h beatHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *beatHeap) Push(x any) {
	it := x.(*beatItem)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *beatHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// updater gathers every node's allocation updates and sends them in
// batches, as each client's own batcher does, but for the whole fleet.
type updater struct {
	s       *Sim
	mu      sync.Mutex
	pending map[string]*structs.Allocation
	wake    chan struct{}
}

func newUpdater(s *Sim) *updater {
	return &updater{s: s, pending: map[string]*structs.Allocation{}, wake: make(chan struct{}, 1)}
}

func (u *updater) add(a *structs.Allocation) {
	u.mu.Lock()
	u.pending[a.ID] = a
	full := len(u.pending) >= u.s.cfg.UpdateBatch
	u.mu.Unlock()
	if full {
		select {
		case u.wake <- struct{}{}:
		default:
		}
	}
}

func (u *updater) take(max int) []*structs.Allocation {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]*structs.Allocation, 0, min(max, len(u.pending)))
	for id, a := range u.pending {
		if len(out) == max {
			break
		}
		out = append(out, a)
		delete(u.pending, id)
	}
	return out
}

// run sends what gathered every UpdateInterval, or at once when a full
// batch is waiting. A failed batch goes back to the queue.
func (u *updater) run(ctx context.Context) {
	tick := time.NewTicker(u.s.cfg.UpdateInterval)
	defer tick.Stop()
	// Updates go to the first node's server; the servers forward them to
	// the leader as they would a client's.
	sender := &simNode{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-u.wake:
		}
		for {
			batch := u.take(u.s.cfg.UpdateBatch)
			if len(batch) == 0 {
				break
			}
			if err := u.s.call(ctx, sender, "UpdateAllocations", batch, nil); err != nil {
				if ctx.Err() != nil {
					return
				}
				u.s.errs.Add(1)
				u.s.cfg.Logger.Warn("allocation update failed", "allocs", len(batch), "error", err)
				for _, a := range batch {
					u.requeue(a)
				}
				break
			}
			u.s.updateCalls.Add(1)
			for _, a := range batch {
				if a.ClientStatus == structs.AllocClientStatusRunning {
					u.s.running.Add(1)
				} else {
					u.s.complete.Add(1)
				}
			}
			if len(batch) < u.s.cfg.UpdateBatch {
				break
			}
		}
	}
}

// requeue puts back an update unless a newer one for the same allocation
// came meanwhile.
func (u *updater) requeue(a *structs.Allocation) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.pending[a.ID]; !ok {
		u.pending[a.ID] = a
	}
}
