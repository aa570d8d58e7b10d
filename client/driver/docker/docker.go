// Package docker is the driver that runs tasks as Docker containers through
// the Docker Engine API (github.com/moby/moby/client).
//
// drover, not Docker, owns the task lifecycle: containers get no restart
// policy, stop signals and kill timeouts are sent by the driver, and a
// task's output is copied from the engine's log into the allocation's log
// files. Every container carries com.drover.* labels so a client can find
// its containers again after a restart (RecoverTask) and remove the ones it
// no longer knows (ListDroverContainers).
//
// The files read in lifecycle order: docker.go (the driver and its
// fingerprint), config.go (task config → container config), start.go,
// logs.go (output copying), wait.go (wait, stop, destroy, recover), list.go.
package docker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/client"
)

// Name is the driver's name, as used in a task's `driver` attribute.
const Name = "docker"

// Config configures a Driver. The zero value is ready to use.
type Config struct {
	// Client is the engine client to use. When nil, New makes one from the
	// environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
	// DOCKER_API_VERSION), like the docker CLI does.
	Client *client.Client
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Options are what jobs may ask of the engine (options.go).
	Options Options
	// Host, when set and Client is nil, is the engine's endpoint
	// ("unix:///var/run/docker.sock", "tcp://host:2376") instead of DOCKER_HOST.
	Host string
	// NodeID, when set, labels every container this driver creates
	// (LabelNodeID), so a client sharing the engine with others removes
	// only its own orphans (list.go).
	NodeID string
}

// Driver runs tasks as containers. It is safe for concurrent use.
type Driver struct {
	cli       *client.Client
	ownClient bool
	logger    *slog.Logger
	opts      Options
	nodeID    string
	infra     infraImage // the bridge groups' infra image (infra.go)
	// defaultDNS is the resolver of containers that set none (dns.go).
	defaultDNS atomic.Pointer[driver.DNSConfig]

	// ctx is the parent of every log copier and is cancelled by Close, so
	// copiers stop with the client process while containers keep running.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	copiers map[string]*logCopier // by container ID
}

var _ driver.Driver = (*Driver)(nil)

// New returns a Driver. It does not contact the engine: a node whose
// engine is down still starts, and Fingerprint reports Docker unhealthy.
//
// The client negotiates the API version with the engine on its first
// request (the default in moby/moby/client v0.6+), so it works with engines
// down to API 1.40 unless DOCKER_API_VERSION pins a version.
func New(cfg Config) (*Driver, error) {
	d := &Driver{
		cli:     cfg.Client,
		logger:  cfg.Logger,
		opts:    cfg.Options,
		nodeID:  cfg.NodeID,
		copiers: make(map[string]*logCopier),
	}
	if d.cli == nil {
		opts := []client.Opt{client.FromEnv}
		if cfg.Host != "" {
			opts = append(opts, client.WithHost(cfg.Host))
		}
		cli, err := client.New(opts...)
		if err != nil {
			return nil, fmt.Errorf("docker: client: %w", err)
		}
		d.cli, d.ownClient = cli, true
	}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	d.logger = d.logger.With("driver", Name)
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Close stops copying output and releases the engine client. Containers are
// left running: a later process recovers them with RecoverTask.
func (d *Driver) Close() error {
	d.cancel()
	d.mu.Lock()
	copiers := make([]*logCopier, 0, len(d.copiers))
	for _, c := range d.copiers {
		copiers = append(copiers, c)
	}
	d.mu.Unlock()
	for _, c := range copiers {
		<-c.done
	}
	if d.ownClient {
		return d.cli.Close()
	}
	return nil
}

// Name implements driver.Driver.
func (d *Driver) Name() string { return Name }

// fingerprintTimeout bounds Fingerprint, which runs periodically and must
// not hang on an engine that accepts connections but does not answer.
const fingerprintTimeout = 5 * time.Second

// Fingerprint reports whether the engine answers, and its version. An
// engine that cannot be reached is reported as not detected, so the node
// is not offered docker tasks.
func (d *Driver) Fingerprint(ctx context.Context) *driver.Fingerprint {
	ctx, cancel := context.WithTimeout(ctx, fingerprintTimeout)
	defer cancel()

	if _, err := d.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return &driver.Fingerprint{
			Description: "Docker engine unreachable: " + err.Error(),
			Attributes:  map[string]string{},
		}
	}
	ver, err := d.cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return &driver.Fingerprint{
			Detected:    true,
			Description: "Docker engine answers ping but not /version: " + err.Error(),
			Attributes:  map[string]string{"driver.docker": "1"},
		}
	}
	attrs := map[string]string{
		"driver.docker":             "1",
		"driver.docker.version":     ver.Version,
		"driver.docker.api_version": d.cli.ClientVersion(),
		"driver.docker.os_type":     ver.Os,
	}
	if ip := d.bridgeIP(ctx); ip.IsValid() {
		attrs["driver.docker.bridge_ip"] = ip.String()
	}
	return &driver.Fingerprint{
		Detected:    true,
		Healthy:     true,
		Description: "Healthy",
		Attributes:  attrs,
	}
}

// bridgeIP finds the gateway address of Docker's default bridge network,
// which is how containers reach the host. The engine lists it only when it
// was configured explicitly; otherwise it is the address of the bridge
// interface, which can be read only when the engine runs on this machine.
// The zero Addr means unknown.
func (d *Driver) bridgeIP(ctx context.Context) netip.Addr {
	res, err := d.cli.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{})
	if err != nil {
		return netip.Addr{}
	}
	for _, c := range res.Network.IPAM.Config {
		if c.Gateway.IsValid() {
			return c.Gateway
		}
	}
	if !strings.HasPrefix(d.cli.DaemonHost(), "unix://") {
		return netip.Addr{}
	}
	name := res.Network.Options["com.docker.network.bridge.name"]
	if name == "" {
		name = "docker0"
	}
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return netip.Addr{}
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}
