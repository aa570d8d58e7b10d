// Package client is the worker side of drover: it registers the machine
// as a node, keeps it alive with heartbeats, pulls the allocations the
// servers placed on it, runs them through allocation and task runners, and
// reports their status back. Servers never call clients: a client that was
// away simply asks again.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/allocrunner"
	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/state"
	"github.com/drover-project/drover/structs"
)

// Client is one node's agent.
type Client struct {
	cfg     Config
	servers Servers
	drivers map[string]driver.Driver
	logger  *slog.Logger
	clock   clock.Clock
	db      *state.DB
	nodeID  string
	updates *updateBatcher
	// services holds the node's service catalog (services.go).
	services *serviceReporter

	// registered is closed once the node is first registered: allocations
	// are asked for only then.
	registered     chan struct{}
	registeredOnce sync.Once
	// initialized is closed once the first answer about allocations has
	// been applied: the node then turns from initializing to ready (node.go).
	initialized     chan struct{}
	initializedOnce sync.Once

	mu   sync.Mutex
	node *structs.Node
	// runners are the allocations this client runs, by ID.
	runners map[string]*allocrunner.AllocRunner
	// runIndex is the AllocModifyIndex each runner last got.
	runIndex map[string]uint64
	// restored are the allocations an earlier client process ran, until
	// the first answer from the servers says which to keep.
	restored map[string]*structs.Allocation

	// Lifecycle: Shutdown closes shutdown (once, under mu) and waits for
	// Run through running.
	shutdown     chan struct{}
	shutdownDone bool
	runCalled    bool
	running      sync.WaitGroup
}

// New prepares a client: it reads or creates the node's identity in the
// data directory, opens the client state and fingerprints the machine.
// Nothing talks to the servers until Run.
func New(cfg *Config, servers Servers, drivers map[string]driver.Driver, logger *slog.Logger) (*Client, error) {
	if cfg == nil || servers == nil {
		return nil, errors.New("client: a config and servers are required")
	}
	conf, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(conf.DataDir, "client"), 0o700); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	idPath, secretPath := nodeFiles(conf.DataDir)
	id, err := loadOrCreateID(idPath)
	if err != nil {
		return nil, err
	}
	secret, err := loadOrCreateID(secretPath)
	if err != nil {
		return nil, err
	}

	c := &Client{
		cfg:        conf,
		servers:    servers,
		drivers:    drivers,
		logger:     logger.With("node_id", id),
		clock:      conf.Clock,
		nodeID:     id,
		registered: make(chan struct{}),
		runners:    map[string]*allocrunner.AllocRunner{},
		runIndex:   map[string]uint64{},
		restored:   map[string]*structs.Allocation{},
		shutdown:   make(chan struct{}),
	}
	// The node is "initializing" until its allocations are in hand (node.go).
	c.initialized = make(chan struct{})
	c.updates = newUpdateBatcher(servers.UpdateAllocations, c.logger)
	c.node, err = c.buildNode(context.Background(), id, secret)
	if err != nil {
		return nil, err
	}
	c.db, err = state.Open(filepath.Join(conf.DataDir, "client", "state.db"))
	if err != nil {
		return nil, err
	}
	restored, err := c.db.Allocations()
	if err != nil {
		return nil, errors.Join(err, c.db.Close())
	}
	for _, a := range restored {
		c.restored[a.ID] = a
	}
	// The service catalog and its reports to the servers (services.go).
	if c.services, err = newServiceReporter(conf, id, servers, c.logger); err != nil {
		return nil, errors.Join(err, c.db.Close())
	}
	return c, nil
}

// NodeID is this node's ID, stable across restarts.
func (c *Client) NodeID() string { return c.nodeID }

// Node returns a copy of the node as last fingerprinted.
func (c *Client) Node() *structs.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node.Copy()
}

// Run registers the node and runs its allocations until ctx ends or
// Shutdown is called (if Shutdown came first, Run returns at once). Tasks keep running when it returns, so that the
// next client process re-attaches to them.
func (c *Client) Run(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.shutdownDone:
		// Shutdown won the race with a Run started in a goroutine: there
		// is nothing left to run.
		c.mu.Unlock()
		return nil
	case c.runCalled:
		c.mu.Unlock()
		return errors.New("client: Run called twice")
	}
	c.runCalled = true
	c.running.Add(1)
	c.mu.Unlock()
	defer c.running.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var loops sync.WaitGroup
	loops.Go(func() { c.nodeLoop(ctx) })
	loops.Go(func() { c.allocLoop(ctx) })
	loops.Go(func() { c.updates.run(ctx) })
	loops.Go(func() { c.services.run(ctx) })
	loops.Go(func() { c.gcLoop(ctx) }) // gc.go
	select {
	case <-ctx.Done():
	case <-c.shutdown:
		cancel()
	}
	loops.Wait()
	return nil
}

// destroyOnShutdownTimeout bounds how long a dev agent waits for its tasks
// to stop when it shuts down.
const destroyOnShutdownTimeout = 30 * time.Second

// Shutdown stops Run, waits for it to return and closes the client state.
// Tasks are left running, unless DestroyOnShutdown asks to stop them.
func (c *Client) Shutdown() error {
	c.mu.Lock()
	if c.shutdownDone {
		c.mu.Unlock()
		return nil
	}
	c.shutdownDone = true
	runners := make([]*allocrunner.AllocRunner, 0, len(c.runners))
	for _, r := range c.runners {
		runners = append(runners, r)
	}
	c.mu.Unlock()
	var errs []error
	if c.cfg.DestroyOnShutdown {
		errs = append(errs, c.destroyAll(runners))
	}
	close(c.shutdown)
	c.running.Wait()
	if c.cfg.DestroyOnShutdown {
		// Every runner has ended: no task builds its directory any more,
		// so no secrets tmpfs can outlive the data dir.
		errs = append(errs, c.unmountAllSecrets())
	}
	errs = append(errs, c.db.Close())
	c.services.close()
	return errors.Join(errs...)
}

// unmountAllSecrets unmounts the secrets tmpfs of every allocation
// directory on disk, whether or not a runner still knows it.
func (c *Client) unmountAllSecrets() error {
	entries, err := os.ReadDir(filepath.Join(c.cfg.DataDir, "alloc"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("client: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() {
			errs = append(errs, allocdir.New(c.cfg.DataDir, e.Name()).UnmountSecrets())
		}
	}
	return errors.Join(errs...)
}

// destroyAll stops every allocation, for a dev agent whose data dir goes
// away with it: nothing could re-attach to those containers later.
func (c *Client) destroyAll(runners []*allocrunner.AllocRunner) error {
	ctx, cancel := context.WithTimeout(context.Background(), destroyOnShutdownTimeout)
	defer cancel()
	errCh := make(chan error, len(runners))
	for _, r := range runners {
		go func() {
			err := r.Destroy(ctx)
			// Its secrets tmpfs would outlive the data dir (allocdir); a
			// container still running keeps its own reference.
			errCh <- errors.Join(err, r.Dir().UnmountSecrets())
		}()
	}
	var errs []error
	for range runners {
		errs = append(errs, <-errCh)
	}
	return errors.Join(errs...)
}
