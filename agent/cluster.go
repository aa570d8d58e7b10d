package agent

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	sockaddr "github.com/hashicorp/go-sockaddr"

	"github.com/drover-project/drover/server"
	"github.com/drover-project/drover/structs"
)

// errNoServer answers membership requests on an agent that runs no server.
var errNoServer = errors.New("this agent runs no server: ask a server agent")

// clusterServerConfig fills in the clustering part of the server's config:
// whether it bootstraps alone, what it advertises, where it gossips and whom
// it joins.
func (a *Agent) clusterServerConfig(sc *server.Config) error {
	cfg := a.cfg
	expect := cfg.Server.BootstrapExpect
	// A server bootstraps alone with bootstrap_expect = 1 (and -dev), or
	// with none and nobody to join, as before clustering. With none and a
	// retry_join it waits to be added by the cluster it joins.
	sc.Bootstrap = cfg.Dev || expect == 1 || (expect == 0 && len(cfg.RetryJoin) == 0)
	sc.BootstrapExpect = expect
	sc.RaftMultiplier = cfg.Server.RaftMultiplier
	sc.Autopilot = &server.AutopilotConfig{
		CleanupDeadServers:      cfg.Autopilot.CleanupDeadServers,
		ServerStabilizationTime: cfg.Autopilot.ServerStabilizationTime,
		MinQuorum:               cfg.Autopilot.MinQuorum,
	}

	rpcAdv, err := a.advertise("advertise.rpc", cfg.Advertise.RPC, cfg.Ports.RPC)
	if err != nil {
		return err
	}
	if rpcAdv != "" {
		sc.RPCAdvertise, err = net.ResolveTCPAddr("tcp", rpcAdv)
		if err != nil {
			return fmt.Errorf("advertise.rpc: %w", err)
		}
	}
	g := server.GossipConfig{
		BindAddr:      cfg.BindAddr,
		BindPort:      cfg.Ports.Serf,
		RetryInterval: cfg.RetryInterval,
		RetryMax:      cfg.RetryMax,
		// A dev agent gossips on loopback: quick failure detection.
		Local: cfg.Dev,
	}
	if cfg.Advertise.Serf != "" {
		host, port, err := advertiseAddr("advertise.serf", cfg.Advertise.Serf, cfg.Ports.Serf)
		if err != nil {
			return err
		}
		g.AdvertiseAddr, g.AdvertisePort = host, port
	}
	for _, addr := range cfg.RetryJoin {
		full, err := JoinAddress(addr)
		if err != nil {
			return fmt.Errorf("retry_join: %w", err)
		}
		g.RetryJoin = append(g.RetryJoin, full)
	}
	sc.Gossip = g
	return nil
}

// advertise is the "ip:port" to advertise for a listener: the advertise
// value when given; when the agent binds to every interface, the private IP
// with the configured port; otherwise "" (the bound address).
func (a *Agent) advertise(key, value string, port int) (string, error) {
	if value != "" {
		host, p, err := advertiseAddr(key, value, port)
		if err != nil {
			return "", err
		}
		return net.JoinHostPort(host, strconv.Itoa(p)), nil
	}
	ip := net.ParseIP(a.cfg.BindAddr)
	if ip == nil || !ip.IsUnspecified() {
		return "", nil
	}
	if port == 0 {
		return "", fmt.Errorf("%s: bound to %s on a free port, the agent cannot tell peers where it is; set %s", key, a.cfg.BindAddr, key)
	}
	private, err := sockaddr.GetPrivateIP()
	if err != nil || private == "" {
		return "", fmt.Errorf("%s: bound to %s and no private IP found to advertise (%v); set %s", key, a.cfg.BindAddr, err, key)
	}
	return net.JoinHostPort(private, strconv.Itoa(port)), nil
}

// Members lists the region's servers for /v1/agent/members.
func (a *Agent) Members() (*structs.ServerMembers, error) {
	if a.server == nil {
		return nil, errNoServer
	}
	return a.server.Members(), nil
}

// Join asks the servers at addrs ("host" or "host:port"; the port defaults
// to 4748) to merge gossip pools with this server.
func (a *Agent) Join(addrs []string) (int, error) {
	if a.server == nil {
		return 0, errNoServer
	}
	full := make([]string, 0, len(addrs))
	for _, addr := range addrs {
		f, err := JoinAddress(addr)
		if err != nil {
			return 0, structs.BadRequest(err)
		}
		full = append(full, f)
	}
	return a.server.Join(full)
}

// ForceLeave forces a failed server to "left", taking it out of the Raft
// configuration; prune also drops it from the member list.
func (a *Agent) ForceLeave(node string, prune bool) error {
	if a.server == nil {
		return errNoServer
	}
	return a.server.ForceLeave(node, prune)
}

// Leave takes this agent's server out of the cluster on purpose (see
// server.Leave); Shutdown still has to follow. Agents without a server have
// nothing to leave.
func (a *Agent) Leave() error {
	if a.server == nil {
		return nil
	}
	return a.server.Leave()
}

// httpAdvertise is the HTTP address other agents use to reach this one:
// advertise.http when given (validated at start), else the bound address.
func (a *Agent) httpAdvertise() string {
	bound := a.httpLn.Addr().String()
	_, port, _ := net.SplitHostPort(bound)
	p, _ := strconv.Atoi(port)
	adv, err := a.advertise("advertise.http", a.cfg.Advertise.HTTP, p)
	if err != nil || adv == "" {
		return bound
	}
	return adv
}
