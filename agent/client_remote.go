package agent

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-project/drover/internal/rpc/serversclient"
	"github.com/drover-project/drover/internal/version"
	"github.com/drover-project/drover/server/membership"
)

// A client agent without a local server (remote servers): it joins the
// region's gossip pool as a member with role "client", learns from it
// which servers are alive and where their RPC port is, and calls them over
// RPC (internal/rpc/serversclient), moving to the next server when one
// stops answering. client.servers gives RPC addresses to start with, for
// clusters a client cannot gossip with. The same pool carries the client's
// service catalog (membership.Delegates).

// remoteServers is the client's link to servers it does not run itself.
type remoteServers struct {
	rpc *serversclient.Servers
	// static are the client.servers addresses, used until gossip names
	// live servers.
	static []string
	pool   *membership.Pool
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// leaveTimeout bounds the gossip goodbye of a client agent that shuts down.
const leaveTimeout = 2 * time.Second

// newRemoteServers makes the RPC side; startGossip adds discovery once the
// node ID (the client's member name) is known.
func (a *Agent) newRemoteServers() (*remoteServers, error) {
	r := &remoteServers{rpc: serversclient.NewDiscovered(), log: a.log.With("component", "client_servers")}
	for _, addr := range a.cfg.Client.Servers {
		full, err := ServerAddress(addr)
		if err != nil {
			return nil, fmt.Errorf("client.servers: %w", err)
		}
		r.static = append(r.static, full)
	}
	r.rpc.SetServers(r.static)
	return r, nil
}

// startRemoteGossip joins the region's pool as nodeID and follows the
// servers in it.
func (a *Agent) startRemoteGossip(ctx context.Context, r *remoteServers, nodeID string) error {
	cfg := a.cfg
	mc := membership.Config{
		Name:     nodeID,
		BindAddr: cfg.BindAddr,
		BindPort: cfg.Ports.Serf,
		Tags: membership.ClientTags(membership.Client{
			Region: cfg.Region, Datacenter: cfg.Datacenter, NodeID: nodeID, NodeName: cfg.Name, Build: version.Version,
		}),
		Accept: func(name string, tags map[string]string) error { return acceptRegionMember(cfg.Region, name, tags) },
		Logger: a.log,
	}
	adv, err := a.advertise("advertise.serf", cfg.Advertise.Serf, cfg.Ports.Serf)
	if err != nil {
		return err
	}
	if adv != "" {
		host, port, _ := net.SplitHostPort(adv)
		mc.AdvertiseAddr = host
		mc.AdvertisePort, _ = strconv.Atoi(port)
	}
	// The service catalog rides on this pool (agent/discovery.go).
	if d, ev, ok := a.CatalogGossip(); ok {
		mc.Delegates = &membership.Delegates{Delegate: d, Events: ev}
	}
	pool, err := membership.New(mc)
	if err != nil {
		return err
	}
	r.pool = pool
	ctx, r.cancel = context.WithCancel(ctx)
	h := fnv.New32a()
	h.Write([]byte(nodeID))
	spread := int(h.Sum32() % 1024)
	r.wg.Go(func() { r.follow(ctx, spread) })
	if len(cfg.RetryJoin) > 0 {
		var addrs []string
		for _, addr := range cfg.RetryJoin {
			full, err := JoinAddress(addr)
			if err != nil {
				return fmt.Errorf("retry_join: %w", err)
			}
			addrs = append(addrs, full)
		}
		r.wg.Go(func() {
			if err := pool.RetryJoin(ctx, addrs, cfg.RetryInterval, cfg.RetryMax); err != nil && ctx.Err() == nil {
				r.log.Error("could not join the region's gossip pool; the client uses client.servers only", "error", err)
			}
		})
	}
	return nil
}

// acceptRegionMember lets servers and clients of the region into a
// client's pool.
func acceptRegionMember(region, name string, tags map[string]string) error {
	if srv, ok := membership.ParseServer(tags); ok {
		if srv.Region != region {
			return fmt.Errorf("server %q is in region %q, this client is in %q", name, srv.Region, region)
		}
		return nil
	}
	if cl, ok := membership.ParseClient(tags); ok {
		if cl.Region != region {
			return fmt.Errorf("client %q is in region %q, this client is in %q", name, cl.Region, region)
		}
		return nil
	}
	return fmt.Errorf("member %q is not a drover server or client", name)
}

// follow keeps the RPC server list equal to the live servers gossip knows:
// a failed server drops out at once, so calls go to one that answers
// without first waiting on a dead connection. spread rotates the list, so
// that clients do not all start with the same server.
func (r *remoteServers) follow(ctx context.Context, spread int) {
	var last []string
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		live := liveServers(r.pool.Members(), spread)
		if len(live) == 0 {
			live = r.static
		}
		if !slices.Equal(live, last) && len(live) > 0 {
			r.rpc.SetServers(live)
			r.log.Info("servers", "rpc_addrs", live)
			last = live
		}
		select {
		case <-ctx.Done():
			return
		case <-r.pool.Changes():
		case <-tick.C:
		}
	}
}

// liveServers are the RPC addresses of the alive servers among members,
// sorted, then rotated by spread.
func liveServers(members []membership.Member, spread int) []string {
	var out []string
	for _, m := range members {
		srv, ok := membership.ParseServer(m.Tags)
		if ok && m.Status == membership.StatusAlive {
			out = append(out, srv.RPCAddr)
		}
	}
	slices.Sort(out)
	if len(out) > 1 {
		k := spread % len(out)
		out = append(out[k:], out[:k]...)
	}
	return out
}

// stop says goodbye to the pool (so the others list this client as left,
// not failed) and closes the connections.
func (r *remoteServers) stop() {
	if r == nil {
		return
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.pool != nil {
		if err := r.pool.Leave(leaveTimeout); err != nil {
			r.log.Warn("gossip leave", "error", err)
		}
		if err := r.pool.Shutdown(); err != nil {
			r.log.Warn("gossip shutdown", "error", err)
		}
	}
	if err := r.rpc.Close(); err != nil {
		r.log.Warn("close server connections", "error", err)
	}
}

// httpAdvertiseConfigured is the HTTP address a server gossips, known
// before its listener opens: advertise.http, the private IP when bound to
// every interface, else the bind address; "" with a port chosen by the OS.
func (a *Agent) httpAdvertiseConfigured() string {
	cfg := a.cfg
	if cfg.Ports.HTTP == 0 && cfg.Advertise.HTTP == "" {
		return ""
	}
	adv, err := a.advertise("advertise.http", cfg.Advertise.HTTP, cfg.Ports.HTTP)
	if err != nil {
		return ""
	}
	if adv == "" {
		adv = net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.Ports.HTTP))
	}
	return adv
}

// apiHandler answers on a client agent what the agent knows itself (the
// agent's own routes, the node's allocations' logs and files, job parsing,
// metrics) and forwards every other API request to a live server's HTTP
// API, as a Nomad client forwards to its servers, so the CLI works
// against any agent.
func (r *remoteServers) apiHandler(local nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, req *nethttp.Request) {
		addr := r.serverHTTP()
		if addr == "" || servedByClientAgent(req.URL.Path) {
			local.ServeHTTP(w, req)
			return
		}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(&url.URL{Scheme: "http", Host: addr})
				pr.SetXForwarded()
			},
			// Streams (event stream, blocking queries) pass through at once.
			FlushInterval: -1,
			ErrorHandler: func(w nethttp.ResponseWriter, req *nethttp.Request, err error) {
				nethttp.Error(w, fmt.Sprintf("this client agent could not reach server %s: %v", addr, err), nethttp.StatusBadGateway)
			},
		}
		proxy.ServeHTTP(w, req)
	})
}

// servedByClientAgent lists the routes a client agent answers itself.
func servedByClientAgent(path string) bool {
	switch {
	case !strings.HasPrefix(path, "/v1/"),
		strings.HasPrefix(path, "/v1/client/"),
		path == "/v1/jobs/parse",
		path == "/v1/metrics",
		strings.HasPrefix(path, "/v1/agent/") && path != "/v1/agent/members":
		return true
	}
	return false
}

// serverHTTP is the HTTP address of the server this client calls over RPC,
// or of another live server; "" when gossip names none.
func (r *remoteServers) serverHTTP() string {
	if r.pool == nil {
		return ""
	}
	byRPC := map[string]string{}
	var any string
	for _, m := range r.pool.Members() {
		srv, ok := membership.ParseServer(m.Tags)
		if !ok || m.Status != membership.StatusAlive || srv.HTTPAddr == "" {
			continue
		}
		byRPC[srv.RPCAddr] = srv.HTTPAddr
		if any == "" {
			any = srv.HTTPAddr
		}
	}
	for _, rpcAddr := range r.rpc.List() {
		if h, ok := byRPC[rpcAddr]; ok {
			return h
		}
	}
	return any
}
