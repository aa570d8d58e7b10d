package client

import (
	"errors"
	"os"

	"github.com/drover-project/drover/client/clock"
	"github.com/drover-project/drover/internal/version"
	"github.com/drover-project/drover/structs"
)

// Config is a client's configuration. Zero fields take the defaults noted.
type Config struct {
	// DataDir holds the node ID, the client state and the allocation
	// directories. Required.
	DataDir string
	// NodeName defaults to the hostname.
	NodeName string
	// Datacenter defaults to dc1.
	Datacenter string
	NodeClass  string
	// NodePool defaults to "default".
	NodePool string
	Meta     map[string]string
	// HostVolumes are the node's directories that groups may mount
	// (volume blocks of type host), by name.
	HostVolumes map[string]*structs.ClientHostVolumeConfig
	// Region defaults to global.
	Region string
	// HostIP is the address task ports are published on, and the node's
	// unique.network.ip-address. Defaults to 127.0.0.1 (a dev agent).
	HostIP string
	// HTTPAddr is the agent's HTTP address (host:port), where the servers
	// find the client's log endpoints.
	HTTPAddr string
	// MinDynamicPort and MaxDynamicPort bound the ports the scheduler may
	// pick on this node; they default to 20000 and 32000.
	MinDynamicPort int
	MaxDynamicPort int
	// ReservedCPU (MHz) and ReservedMemoryMB are held back for the system.
	ReservedCPU      int
	ReservedMemoryMB int
	// Version is reported as the node's drover.version and nomad.version
	// attributes; it defaults to this build's version.
	Version string
	// DestroyOnShutdown stops every allocation when the client shuts
	// down, as a dev agent (whose data dir is temporary) does.
	DestroyOnShutdown bool
	// SecretsTmpfs mounts a tmpfs on each task's secrets/ (as root; a
	// plain directory with a warning otherwise). See client/allocdir.
	SecretsTmpfs bool
	// Clock drives heartbeats, fingerprint periods and restart delays;
	// nil is the real clock.
	Clock clock.Clock
	// CatalogMemberName is this node's name in the region's memberlist
	// pool, which the service catalog's gossip ties its instances to
	// (the node ID when empty; see services.go).
	CatalogMemberName string
	// GC is the garbage collection policy of terminal allocations (gc.go);
	// zero fields take Nomad's defaults.
	GC GCConfig
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.DataDir == "" {
		return c, errors.New("client: data_dir is required")
	}
	if c.NodeName == "" {
		host, err := os.Hostname()
		if err != nil {
			return c, err
		}
		c.NodeName = host
	}
	if c.Datacenter == "" {
		c.Datacenter = structs.DefaultDatacenter
	}
	if c.NodePool == "" {
		c.NodePool = "default"
	}
	if c.Region == "" {
		c.Region = structs.DefaultRegion
	}
	if c.HostIP == "" {
		c.HostIP = "127.0.0.1"
	}
	if c.MinDynamicPort == 0 {
		c.MinDynamicPort = structs.DefaultMinDynamicPort
	}
	if c.MaxDynamicPort == 0 {
		c.MaxDynamicPort = structs.DefaultMaxDynamicPort
	}
	if c.MinDynamicPort > c.MaxDynamicPort {
		return c, errors.New("client: min_dynamic_port is above max_dynamic_port")
	}
	if c.Version == "" {
		c.Version = version.Version
	}
	c.Clock = clock.OrReal(c.Clock)
	return c, nil
}
