package client

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/structs"
)

// serviceResyncInterval is how often every local instance is reported to
// the servers again, so that their list heals after anything that lost a
// report (a snapshot restore, an operator's DELETE of a running instance).
const serviceResyncInterval = time.Minute

// Catalog is the node's service catalog: the instances this client runs,
// and, once the agent plugs its Delegate and EventDelegate into the
// region's memberlist pool, every other node's. Without gossip it holds
// this node's instances only, which is all a single-node cluster has.
func (c *Client) Catalog() *catalog.Catalog { return c.services.catalog }

// serviceReporter is the allocation runners' ServiceRegistry: it puts
// instances into the local catalog at once (DNS and load balancing follow
// it), and reports them to the servers in the background, retrying until
// they take them. Its retries and resyncs, and the catalog's expiry, run
// on real time: they bound load and repair, they are not behaviour the
// client's fake-clock tests step through.
type serviceReporter struct {
	catalog *catalog.Catalog
	servers Servers
	logger  *slog.Logger
	clock   clock.Clock

	mu sync.Mutex
	// local is every instance this client runs, as last registered.
	local map[string]*structs.ServiceRegistration
	// pending is what the servers have not yet taken, by ID: an instance
	// to upsert, or nil to delete.
	pending map[string]*structs.ServiceRegistration
	wake    chan struct{}
}

func newServiceReporter(cfg Config, nodeID string, servers Servers, logger *slog.Logger) (*serviceReporter, error) {
	cat, err := catalog.New(catalog.Config{
		NodeID:     nodeID,
		MemberName: cfg.CatalogMemberName,
		Datacenter: cfg.Datacenter,
		Logger:     logger.With("component", "catalog"),
	})
	if err != nil {
		return nil, err
	}
	return &serviceReporter{
		catalog: cat,
		servers: servers,
		logger:  logger,
		clock:   clock.Real{},
		local:   map[string]*structs.ServiceRegistration{},
		pending: map[string]*structs.ServiceRegistration{},
		wake:    make(chan struct{}, 1),
	}, nil
}

// RegisterServices adds or updates instances; an unchanged instance is
// not reported again.
func (r *serviceReporter) RegisterServices(regs []*structs.ServiceRegistration) {
	r.mu.Lock()
	for _, reg := range regs {
		if old := r.local[reg.ID]; old != nil && reflect.DeepEqual(old, reg) {
			continue // nothing new to gossip or report
		}
		if err := r.catalog.Register(reg); err != nil {
			r.logger.Error("cannot register a service instance", "instance", reg.ID, "error", err)
			continue
		}
		r.local[reg.ID] = reg.Copy()
		r.pending[reg.ID] = reg.Copy()
	}
	r.mu.Unlock()
	r.wakeUp()
}

// DeregisterServices removes instances.
func (r *serviceReporter) DeregisterServices(ids []string) {
	r.mu.Lock()
	for _, id := range ids {
		r.catalog.Deregister(id)
		delete(r.local, id)
		r.pending[id] = nil
	}
	r.mu.Unlock()
	r.wakeUp()
}

func (r *serviceReporter) wakeUp() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run reports pending changes until ctx ends, and every local instance
// again each serviceResyncInterval.
func (r *serviceReporter) run(ctx context.Context) {
	retry := newBackoff(minRetry, maxRetry)
	resync := r.clock.NewTimer(serviceResyncInterval)
	defer func() { resync.Stop() }()
	for {
		var delay clock.Timer
		if err := r.flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			d := retry.next()
			r.logger.Warn("failed to report service instances", "error", err, "retry_in", d)
			delay = r.clock.NewTimer(d)
		} else {
			retry.reset()
		}
		var retryC <-chan time.Time
		if delay != nil {
			retryC = delay.C()
		}
		select {
		case <-ctx.Done():
			if delay != nil {
				delay.Stop()
			}
			return
		case <-r.wake:
		case <-retryC:
		case <-resync.C():
			r.mu.Lock()
			for id, reg := range r.local {
				if _, queued := r.pending[id]; !queued {
					r.pending[id] = reg.Copy()
				}
			}
			r.mu.Unlock()
			resync = r.clock.NewTimer(serviceResyncInterval)
		}
		if delay != nil {
			delay.Stop()
		}
	}
}

// flush sends what is pending; what fails stays pending, unless a newer
// change of the same instance came in meanwhile.
func (r *serviceReporter) flush(ctx context.Context) error {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[string]*structs.ServiceRegistration{}
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	var upserts []*structs.ServiceRegistration
	var deletes []string
	for id, reg := range batch {
		if reg == nil {
			deletes = append(deletes, id)
		} else {
			upserts = append(upserts, reg)
		}
	}
	var err error
	if len(upserts) > 0 {
		err = r.servers.UpsertServiceRegistrations(ctx, upserts)
	}
	if err == nil && len(deletes) > 0 {
		err = r.servers.DeleteServiceRegistrations(ctx, deletes)
	}
	if err != nil {
		r.mu.Lock()
		for id, reg := range batch {
			if _, newer := r.pending[id]; !newer {
				r.pending[id] = reg
			}
		}
		r.mu.Unlock()
	}
	return err
}

func (r *serviceReporter) close() { r.catalog.Close() }
