package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/client"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/docker"
	"github.com/drover-project/drover/client/driver/mock"
	"github.com/drover-project/drover/internal/version"
	"github.com/drover-project/drover/server"
)

// mockDriverName is the mock driver's name in jobs, as Nomad's.
const mockDriverName = "mock_driver"

// Agent is one running drover process.
type Agent struct {
	cfg *Config
	log *slog.Logger

	// tempDir is a -dev data dir made for this run, removed on shutdown.
	tempDir string

	server *server.Server
	client *client.Client
	// discovery is the client's DNS server and balancer (discovery.go).
	discovery *discovery
	// catalogGossip carries the client's catalog over the server's gossip
	// pool in an agent that runs both (discovery.go).
	catalogGossip *lazyGossip
	// remote links a client without a local server to the servers
	// (client_remote.go).
	remote *remoteServers

	httpLn  net.Listener
	httpSrv *nethttp.Server

	cancel       context.CancelFunc
	wg           sync.WaitGroup
	shutdownOnce sync.Once
}

// New starts an agent from a validated configuration.
func New(cfg *Config, log *slog.Logger) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: log}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "drover-dev-")
		if err != nil {
			return nil, fmt.Errorf("make a data dir: %w", err)
		}
		a.tempDir = dir
		cfg.DataDir = dir
	}
	if cfg.Name == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("node name: %w", err)
		}
		cfg.Name = host
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	if err := a.start(ctx); err != nil {
		a.Shutdown()
		return nil, err
	}
	return a, nil
}

func (a *Agent) start(ctx context.Context) error {
	cfg := a.cfg
	if cfg.Server.Enabled {
		scfg := server.Config{
			NodeName:   cfg.Name,
			Region:     cfg.Region,
			Datacenter: cfg.Datacenter,
			DataDir:    filepath.Join(cfg.DataDir, "server"),
			RPCAddr:    net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.Ports.RPC)),
			DevMode:    cfg.Dev,
			Logger:     a.log,
			// Raft snapshots and log truncation (config_raft.go).
			RaftSnapshotThreshold: cfg.Server.RaftSnapshotThreshold,
			RaftSnapshotInterval:  cfg.Server.RaftSnapshotInterval,
			RaftTrailingLogs:      cfg.Server.RaftTrailingLogs,
			// Scheduling workers on the leader (0: one per core).
			NumSchedulers: cfg.Server.NumSchedulers,
		}
		// Heartbeat TTLs scaled to the cluster, plus grace (config_client.go).
		scfg.Heartbeat = cfg.Server.Heartbeat.policy()
		// Where client agents forward API requests (client_remote.go).
		scfg.HTTPAdvertise = a.httpAdvertiseConfigured()
		// Bootstrapping, advertising, gossip and joins: cluster.go.
		if err := a.clusterServerConfig(&scfg); err != nil {
			return err
		}
		if cfg.Client.Enabled {
			// The client's catalog gossips over the server's pool; it
			// exists only once the client does (discovery.go).
			a.catalogGossip = newLazyGossip()
			scfg.Gossip.Delegates = a.catalogGossip.delegates()
		}
		srv, err := server.New(scfg)
		if err != nil {
			return err
		}
		a.server = srv
	}
	// Listen before the client starts, so the node registers with the
	// HTTP address its logs are served on.
	addr := net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.Ports.HTTP))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HTTP API: listen on %s: %w", addr, err)
	}
	a.httpLn = ln
	if cfg.Client.Enabled {
		if err := a.startClient(ctx); err != nil {
			return err
		}
	}
	a.serveHTTP()
	return nil
}

func (a *Agent) startClient(ctx context.Context) error {
	cfg := a.cfg
	drivers := map[string]driver.Driver{}
	dockerOpts, err := cfg.DockerOptions()
	if err != nil {
		return err
	}
	// The node ID labels this node's containers (client_remote.go).
	nodeID, err := client.NodeIDFromDataDir(filepath.Join(cfg.DataDir, "client"))
	if err != nil {
		return err
	}
	dd, err := docker.New(docker.Config{Logger: a.log.With("driver", "docker"), Options: dockerOpts,
		Host: cfg.Client.Options["docker.endpoint"], NodeID: nodeID})
	if err != nil {
		// The node still registers: its docker driver shows as unhealthy
		// and nothing is placed on it until Docker answers.
		a.log.Warn("docker driver unavailable", "error", err)
	} else {
		drivers["docker"] = dd
	}
	if cfg.Client.EnableMockDriver {
		drivers[mockDriverName] = mock.New()
	}
	// A client with no local server reaches remote ones (client_remote.go).
	var servers client.Servers
	if a.server != nil {
		servers = a.server.Endpoints()
	} else {
		if a.remote, err = a.newRemoteServers(); err != nil {
			return err
		}
		servers = a.remote.rpc
	}
	c, err := client.New(&client.Config{
		DataDir:    filepath.Join(cfg.DataDir, "client"),
		NodeName:   cfg.Name,
		Datacenter: cfg.Datacenter,
		Region:     cfg.Region,
		NodeClass:  cfg.Client.NodeClass,
		NodePool:   cfg.Client.NodePool,
		Meta:       cfg.Client.Meta,
		HostIP:     a.publishIP(),     // client.publish_address, else advertiseIP (discovery.go)
		HTTPAddr:   a.httpAdvertise(), // advertise.http, else the bound address (cluster.go)
		// What the operator lets groups mount (config_docker.go).
		HostVolumes: cfg.Client.HostVolumes,
		// A dev agent's data dir goes away with it, so nothing could
		// re-attach to its containers later: stop them, as Nomad's -dev does.
		DestroyOnShutdown: cfg.Dev,
		// Each task's secrets/ is a tmpfs when the agent runs as root.
		SecretsTmpfs: true,
		GC:           cfg.Client.GC.client(), // config_gc.go
		// Reserved resources and dynamic ports (config_client.go).
		ReservedCPU:      cfg.Client.Reserved.CPU,
		ReservedMemoryMB: cfg.Client.Reserved.MemoryMB,
		MinDynamicPort:   cfg.Client.MinDynamicPort,
		MaxDynamicPort:   cfg.Client.MaxDynamicPort,
		// The catalog's member in the gossip pool: the server's, when the
		// agent runs one (server.GossipConfig.Delegates), else the node ID.
		CatalogMemberName: a.catalogMemberName(),
	}, servers, drivers, a.log.With("component", "client"))
	if err != nil {
		return err
	}
	a.client = c
	if a.catalogGossip != nil {
		a.catalogGossip.plug(c.Catalog().Delegate(), c.Catalog().EventDelegate())
	}
	if a.remote != nil {
		if err := a.startRemoteGossip(ctx, a.remote, c.NodeID()); err != nil {
			return err
		}
	}
	a.startDiscovery(ctx, drivers["docker"]) // discovery.go
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		c.Run(ctx)
	}()
	return nil
}

// advertiseIP is where the client publishes ports: the bind address, or
// loopback when bound to every interface.
func (a *Agent) advertiseIP() string {
	ip := net.ParseIP(a.cfg.BindAddr)
	if ip == nil || ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return ip.String()
}

func (a *Agent) serveHTTP() {
	hcfg := http.Config{Agent: a, Logger: a.log.With("component", "http")}
	if a.server != nil {
		hcfg.Server = a.server.Endpoints()
		hcfg.Operator = a.server
	}
	if a.client != nil {
		hcfg.Client = logClient{a.client}
	}
	var handler nethttp.Handler = http.New(hcfg)
	if a.cfg.EnableDebug {
		handler = withDebug(handler) // debug.go
	}
	if a.remote != nil {
		// A client agent forwards what it cannot answer (client_remote.go).
		handler = a.remote.apiHandler(handler)
	}
	a.httpSrv = &nethttp.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.httpSrv.Serve(a.httpLn); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			a.log.Error("HTTP API stopped", "error", err)
		}
	}()
}

// HTTPAddr is the URL of the agent's HTTP API.
func (a *Agent) HTTPAddr() string {
	if a.httpLn == nil {
		return ""
	}
	return "http://" + a.httpLn.Addr().String()
}

// Self describes the agent for /v1/agent/self, in Nomad's shape.
func (a *Agent) Self() map[string]any {
	cfg := a.cfg
	host, portStr, _ := net.SplitHostPort(a.httpLn.Addr().String())
	if a.server != nil {
		// A server's member is its gossip identity, as in Nomad.
		host, portStr, _ = net.SplitHostPort(a.server.GossipAddr())
	}
	port, _ := strconv.Atoi(portStr)
	role := "client"
	stats := map[string]map[string]string{"nomad": {"server": strconv.FormatBool(a.server != nil)}}
	if a.server != nil {
		role = "server"
		stats["nomad"]["leader"] = strconv.FormatBool(a.server.IsLeader())
		stats["nomad"]["leader_addr"] = a.server.Leader()
	}
	if a.client != nil {
		stats["client"] = map[string]string{"node_id": a.client.NodeID()}
	}
	return map[string]any{
		"config": map[string]any{
			"Region":     cfg.Region,
			"Datacenter": cfg.Datacenter,
			"NodeName":   cfg.Name,
			"DataDir":    cfg.DataDir,
			"BindAddr":   cfg.BindAddr,
			"DevMode":    cfg.Dev,
			"Version":    map[string]any{"Version": version.Version},
			"Server":     map[string]any{"Enabled": cfg.Server.Enabled, "BootstrapExpect": cfg.Server.BootstrapExpect},
			"Client":     map[string]any{"Enabled": cfg.Client.Enabled, "NodeClass": cfg.Client.NodeClass},
			"Ports":      map[string]any{"HTTP": cfg.Ports.HTTP, "RPC": cfg.Ports.RPC, "Serf": cfg.Ports.Serf},
		},
		"member": map[string]any{
			"Name":   cfg.Name,
			"Addr":   host,
			"Port":   port,
			"Status": "alive",
			"Tags":   map[string]string{"region": cfg.Region, "dc": cfg.Datacenter, "role": role, "build": version.Version},
		},
		"stats": stats,
	}
}

// Shutdown stops the HTTP API, the client and the server, in that order.
func (a *Agent) Shutdown() {
	a.shutdownOnce.Do(func() {
		if a.httpSrv == nil && a.httpLn != nil {
			a.httpLn.Close()
		}
		if a.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := a.httpSrv.Shutdown(ctx); err != nil {
				a.log.Warn("HTTP API shutdown", "error", err)
			}
			cancel()
		}
		a.stopDiscovery()
		if a.client != nil {
			a.client.Shutdown()
		}
		a.cancel()
		a.wg.Wait()
		a.remote.stop() // client_remote.go
		if a.server != nil {
			if err := a.server.Shutdown(); err != nil {
				a.log.Warn("server shutdown", "error", err)
			}
		}
		if a.tempDir != "" {
			if err := os.RemoveAll(a.tempDir); err != nil {
				a.log.Warn("remove dev data dir", "error", err)
			}
		}
	})
}

// logClient gives the HTTP API the client's log readers under the API's own
// interface type.
type logClient struct{ c *client.Client }

func (l logClient) LogReader(allocID, task, logType string) (http.LogReader, error) {
	r, err := l.c.LogReader(allocID, task, logType)
	if err != nil {
		return nil, err
	}
	return r, nil
}
