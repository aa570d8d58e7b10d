package nodes

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/structs"
)

// The drainer runs on the leader. For every draining node it marks
// allocations to migrate (DesiredTransition.Migrate), which the scheduler
// acts on by stopping them and placing replacements elsewhere, as Nomad's:
//
//   - service allocations move in batches: a group keeps at least
//     count − migrate.max_parallel healthy allocations, so the next batch
//     waits for replacements to become healthy;
//   - batch allocations are left to finish until the deadline;
//   - system allocations move last, once nothing else is left (unless the
//     drain ignores system jobs);
//   - at the deadline everything left is marked at once.
//
// When nothing is left the drain is complete: the strategy is cleared and
// the node stays ineligible.

// DrainWriter commits the drainer's decisions through Raft.
type DrainWriter interface {
	// MigrateAllocs marks the allocations to migrate and evaluates their jobs.
	MigrateAllocs(allocs []*structs.Allocation) error
	// CompleteDrain clears a finished drain, leaving the node ineligible.
	CompleteDrain(nodeID string) error
}

// HealthFunc reports whether an allocation counts as healthy for the
// drain of its group at now.
type HealthFunc func(a *structs.Allocation, m *structs.MigrateStrategy, now time.Time) bool

// RunningFor is the default health: the allocation's deployment health
// when the client reports one, else every main task (and sidecar) running
// for at least the group's min_healthy_time. Lifecycle tasks that are not
// sidecars run to completion, so they do not count.
func RunningFor(a *structs.Allocation, m *structs.MigrateStrategy, now time.Time) bool {
	if a.DeploymentStatus.HasHealth() {
		return a.DeploymentStatus.IsHealthy()
	}
	if a.ClientStatus != structs.AllocClientStatusRunning || len(a.TaskStates) == 0 {
		return false
	}
	var tg *structs.TaskGroup
	if a.Job != nil {
		tg = a.Job.LookupTaskGroup(a.TaskGroup)
	}
	var started time.Time
	for name, ts := range a.TaskStates {
		if tg != nil {
			if t := tg.LookupTask(name); t != nil && t.Lifecycle != nil && !t.Lifecycle.Sidecar {
				continue
			}
		}
		if ts == nil || ts.State != structs.TaskStateRunning {
			return false
		}
		if ts.StartedAt.After(started) {
			started = ts.StartedAt
		}
	}
	return !now.Before(started.Add(m.MinHealthyTime))
}

// DrainerConfig configures a Drainer.
type DrainerConfig struct {
	State  func() *state.StateStore
	Writer DrainWriter
	// Healthy decides when a replacement is healthy; nil means RunningFor.
	Healthy HealthFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Interval is how often Run re-checks drains without a state change;
	// 0 means one second.
	Interval time.Duration
	Logger   *slog.Logger
}

// Drainer moves allocations off draining nodes.
type Drainer struct {
	cfg DrainerConfig
}

// NewDrainer returns a drainer; Run drives it.
func NewDrainer(cfg DrainerConfig) *Drainer {
	if cfg.Healthy == nil {
		cfg.Healthy = RunningFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Drainer{cfg: cfg}
}

// Run steps the drainer whenever nodes or allocations change, and at least
// every interval (deadlines and health times pass without a change), until
// ctx ends.
func (d *Drainer) Run(ctx context.Context) {
	for {
		store := d.cfg.State()
		ws := memdb.NewWatchSet()
		if err := d.step(store, ws, d.cfg.Now()); err != nil {
			d.cfg.Logger.Error("drainer pass failed", "error", err)
		}
		wctx, cancel := context.WithTimeout(ctx, d.cfg.Interval)
		_ = ws.WatchCtx(wctx) // returns on a change, the interval or ctx's end
		cancel()
		if ctx.Err() != nil {
			return
		}
	}
}

// Step makes one pass over every draining node at now.
func (d *Drainer) Step(now time.Time) error {
	store := d.cfg.State()
	return d.step(store, nil, now)
}

func (d *Drainer) step(store *state.StateStore, ws memdb.WatchSet, now time.Time) error {
	nodes, err := store.Nodes(ws)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if n.DrainStrategy == nil {
			continue
		}
		if err := d.drainNode(store, ws, n, now); err != nil {
			return err
		}
	}
	return nil
}

// drainNode marks what may move off node now, or completes its drain.
func (d *Drainer) drainNode(store *state.StateStore, ws memdb.WatchSet, node *structs.Node, now time.Time) error {
	allocs, err := store.AllocsByNode(ws, node.ID)
	if err != nil {
		return err
	}
	infinite, at := node.DrainStrategy.DeadlineTime()
	deadline := !infinite && !now.Before(at)
	ignoreSystem := node.DrainStrategy.IgnoreSystemJobs

	var service, batch, system []*structs.Allocation
	for _, a := range allocs {
		if a.Job == nil || a.Terminal() {
			continue
		}
		switch a.Job.Type {
		case structs.JobTypeSystem, structs.JobTypeSysBatch:
			if !ignoreSystem {
				system = append(system, a)
			}
		case structs.JobTypeBatch:
			batch = append(batch, a)
		default:
			service = append(service, a)
		}
	}
	if len(service)+len(batch)+len(system) == 0 {
		d.cfg.Logger.Info("node drain complete", "node_id", node.ID)
		return d.cfg.Writer.CompleteDrain(node.ID)
	}

	var mark []*structs.Allocation
	switch {
	case deadline:
		mark = unmarked(slices.Concat(service, batch, system))
	case len(service)+len(batch) == 0:
		mark = unmarked(system) // system jobs go last
	default:
		if mark, err = d.serviceBatches(store, ws, node, service, now); err != nil {
			return err
		}
	}
	if len(mark) == 0 {
		return nil
	}
	d.cfg.Logger.Info("migrating allocations off draining node", "node_id", node.ID, "count", len(mark), "deadline_reached", deadline)
	return d.cfg.Writer.MigrateAllocs(mark)
}

// serviceBatches picks, group by group, the service allocations on node
// that may start moving now: as many as keep count − max_parallel of the
// group healthy.
func (d *Drainer) serviceBatches(store *state.StateStore, ws memdb.WatchSet, node *structs.Node, onNode []*structs.Allocation, now time.Time) ([]*structs.Allocation, error) {
	type groupKey struct{ ns, job, group string }
	byGroup := map[groupKey][]*structs.Allocation{}
	var keys []groupKey
	for _, a := range onNode {
		k := groupKey{a.Namespace, a.JobID, a.TaskGroup}
		if _, ok := byGroup[k]; !ok {
			keys = append(keys, k)
		}
		byGroup[k] = append(byGroup[k], a)
	}
	slices.SortFunc(keys, func(x, y groupKey) int {
		return cmp.Or(cmp.Compare(x.ns, y.ns), cmp.Compare(x.job, y.job), cmp.Compare(x.group, y.group))
	})

	var mark []*structs.Allocation
	for _, k := range keys {
		job, err := store.JobByID(ws, k.ns, k.job)
		if err != nil {
			return nil, err
		}
		var tg *structs.TaskGroup
		if job != nil && !job.Stopped() {
			tg = job.LookupTaskGroup(k.group)
		}
		if tg == nil {
			// The job or group is gone: nothing to keep healthy.
			mark = append(mark, unmarked(byGroup[k])...)
			continue
		}
		migrate := tg.Migrate
		if migrate == nil {
			migrate = structs.DefaultMigrateStrategy()
		}
		all, err := store.AllocsByJob(ws, k.ns, k.job, true)
		if err != nil {
			return nil, err
		}
		healthy := 0
		for _, a := range all {
			if a.TaskGroup == k.group && !a.Terminal() && !a.DesiredTransition.ShouldMigrate() && d.cfg.Healthy(a, migrate, now) {
				healthy++
			}
		}
		room := healthy - (tg.Count - max(migrate.MaxParallel, 1))
		candidates := unmarked(byGroup[k])
		slices.SortFunc(candidates, func(x, y *structs.Allocation) int {
			return cmp.Or(cmp.Compare(x.Index(), y.Index()), cmp.Compare(x.ID, y.ID))
		})
		// Unhealthy allocations on the node go first: moving them costs
		// the group nothing it has.
		slices.SortStableFunc(candidates, func(x, y *structs.Allocation) int {
			return cmp.Compare(boolRank(d.cfg.Healthy(x, migrate, now)), boolRank(d.cfg.Healthy(y, migrate, now)))
		})
		if room > 0 {
			mark = append(mark, candidates[:min(room, len(candidates))]...)
		}
	}
	return mark, nil
}

// unmarked are the allocations not yet marked to migrate.
func unmarked(allocs []*structs.Allocation) []*structs.Allocation {
	var out []*structs.Allocation
	for _, a := range allocs {
		if !a.DesiredTransition.ShouldMigrate() {
			out = append(out, a)
		}
	}
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
