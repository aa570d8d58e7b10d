package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/drover-project/drover/client/fingerprint"
	"github.com/drover-project/drover/structs"
)

// Timing of the node's conversation with the servers.
const (
	// driverFingerprintPeriod is how often drivers are asked about their health.
	driverFingerprintPeriod = 15 * time.Second
	// defaultHeartbeatTTL is assumed when a server answers without a TTL.
	defaultHeartbeatTTL = 10 * time.Second
	minRetry            = 500 * time.Millisecond
	maxRetry            = 10 * time.Second
)

// loadOrCreateID reads an ID kept in a file, or makes and keeps a new one,
// so the node stays the same node across restarts.
func loadOrCreateID(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(raw))
		if _, err := uuid.Parse(id); err != nil {
			return "", fmt.Errorf("client: %s holds %q, not a UUID: %w", path, id, err)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("client: %w", err)
	}
	id := uuid.NewString()
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	return id, nil
}

// buildNode fingerprints the machine and the drivers into a node ready to
// register.
func (c *Client) buildNode(ctx context.Context, id, secret string) (*structs.Node, error) {
	host, err := fingerprint.Fingerprint(fingerprint.Options{
		DataDir: c.cfg.DataDir,
		HostIP:  c.cfg.HostIP,
		Version: c.cfg.Version,
	})
	if err != nil {
		return nil, err
	}
	node := &structs.Node{
		ID:         id,
		SecretID:   secret,
		Datacenter: c.cfg.Datacenter,
		Name:       c.cfg.NodeName,
		HTTPAddr:   c.cfg.HTTPAddr,
		Attributes: host.Attributes,
		NodeResources: &structs.NodeResources{
			Cpu:            host.Cpu,
			Memory:         host.Memory,
			Disk:           host.Disk,
			Networks:       []*structs.NetworkResource{{Mode: "host", IP: c.cfg.HostIP}},
			MinDynamicPort: c.cfg.MinDynamicPort,
			MaxDynamicPort: c.cfg.MaxDynamicPort,
		},
		ReservedResources: &structs.NodeReservedResources{
			Cpu:    structs.NodeCpuResources{CpuShares: int64(c.cfg.ReservedCPU)},
			Memory: structs.NodeMemoryResources{MemoryMB: int64(c.cfg.ReservedMemoryMB)},
		},
		Meta:                  c.cfg.Meta,
		HostVolumes:           structs.CopyHostVolumes(c.cfg.HostVolumes),
		NodeClass:             c.cfg.NodeClass,
		NodePool:              c.cfg.NodePool,
		Status:                structs.NodeStatusInit, // ready once initialized (markInitialized)
		SchedulingEligibility: structs.NodeSchedulingEligible,
	}
	c.applyDrivers(node, fingerprint.Drivers(ctx, c.drivers, c.clock.Now()))
	return node, nil
}

// applyDrivers sets the node's driver infos and replaces its driver.*
// attributes with the ones they give.
func (c *Client) applyDrivers(node *structs.Node, infos map[string]*structs.DriverInfo) {
	for k := range node.Attributes {
		if strings.HasPrefix(k, "driver.") {
			delete(node.Attributes, k)
		}
	}
	for k, v := range fingerprint.DriverAttributes(infos) {
		node.Attributes[k] = v
	}
	node.Drivers = infos
}

// markInitialized turns the node ready: its allocations from before a
// restart are re-attached or stopped and the servers' list is applied, so
// the scheduler may count on it. As Nomad's, a node registers as
// "initializing" and beats "ready" from then on.
func (c *Client) markInitialized() {
	c.initializedOnce.Do(func() {
		c.mu.Lock()
		node := c.node.Copy()
		node.Status = structs.NodeStatusReady
		c.node = node
		c.mu.Unlock()
		close(c.initialized)
	})
}

// nodeStatus is the status the node reports now.
func (c *Client) nodeStatus() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node.Status
}

// refingerprintDrivers asks the drivers again and reports whether their
// detection or health changed (then the node must re-register).
func (c *Client) refingerprintDrivers(ctx context.Context) bool {
	infos := fingerprint.Drivers(ctx, c.drivers, c.clock.Now())
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := fingerprint.DriversChanged(c.node.Drivers, infos)
	if changed {
		node := c.node.Copy()
		c.applyDrivers(node, infos)
		c.node = node
	}
	return changed
}

// nodeLoop registers the node, heartbeats before each TTL runs out, and
// re-registers when a driver's health changes or the servers forgot the
// node. Errors are retried with a growing delay.
func (c *Client) nodeLoop(ctx context.Context) {
	registered := false
	retry := newBackoff(minRetry, maxRetry)
	next := c.clock.NewTimer(0)
	fingerprintTimer := c.clock.NewTimer(driverFingerprintPeriod)
	defer func() { next.Stop(); fingerprintTimer.Stop() }()
	initialized := c.initialized
	for {
		select {
		case <-ctx.Done():
			return
		case <-initialized:
			// Tell the servers at once that the node is ready.
			initialized = nil
			if registered {
				next.Stop()
				next = c.clock.NewTimer(0)
			}
		case <-fingerprintTimer.C():
			fingerprintTimer = c.clock.NewTimer(driverFingerprintPeriod)
			if c.refingerprintDrivers(ctx) && registered {
				c.logger.Info("driver health changed, registering the node again")
				registered = false
				next.Stop()
				next = c.clock.NewTimer(0)
			}
		case <-next.C():
			var ttl time.Duration
			var err error
			if !registered {
				ttl, err = c.servers.RegisterNode(ctx, c.Node())
				if err == nil {
					registered = true
					c.registeredOnce.Do(func() { close(c.registered) })
					c.logger.Info("node registered", "node_id", c.nodeID)
				}
			} else {
				ttl, err = c.servers.Heartbeat(ctx, c.nodeID, c.nodeStatus())
				if errors.Is(err, structs.ErrNotFound) {
					c.logger.Warn("servers do not know this node, registering again")
					registered = false
				}
			}
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				delay := retry.next()
				c.logger.Warn("node update failed", "error", err, "retry_in", delay)
				next = c.clock.NewTimer(delay)
				continue
			}
			retry.reset()
			if ttl <= 0 {
				ttl = defaultHeartbeatTTL
			}
			c.logger.Debug("heartbeat", "ttl", ttl)
			next = c.clock.NewTimer(ttl / 2)
		}
	}
}

// backoff is a doubling delay between retries, with a ceiling.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max} }

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// NodeIDFromDataDir reads the node ID kept in a client data dir (the
// Config.DataDir), making it first if there is none, so the agent can name
// the node before the client starts (the docker driver labels this node's
// containers with it).
func NodeIDFromDataDir(dataDir string) (string, error) {
	idPath, _ := nodeFiles(dataDir)
	if err := os.MkdirAll(filepath.Dir(idPath), 0o700); err != nil {
		return "", fmt.Errorf("client: %w", err)
	}
	return loadOrCreateID(idPath)
}

// nodeFiles are where the node's identity is kept.
func nodeFiles(dataDir string) (idPath, secretPath string) {
	dir := filepath.Join(dataDir, "client")
	return filepath.Join(dir, "node-id"), filepath.Join(dir, "secret-id")
}
