package server

import (
	"context"
	"strings"

	"github.com/drover-project/drover/internal/rpc"
)

// startRPC serves internal RPC on the shared port: the endpoint calls
// ("Endpoints.*" from remote clients, "Forwarded.*" from servers) and the
// server-to-server operator calls ("Operator.*").
func (s *Server) startRPC() {
	s.rpcServer = rpc.Serve(s.mux, rpc.HandlerFunc(s.serveRPC), s.cfg.Logger.With("component", "rpc"))
}

func (s *Server) serveRPC(ctx context.Context, method string, args rpc.Args) (any, error) {
	if strings.HasPrefix(method, "Operator.") {
		return s.serveOperatorRPC(ctx, method, args)
	}
	return s.endpoints.ServeRPC(ctx, method, args)
}

// stopRPC ends the RPC server's calls and the pool's sessions.
func (s *Server) stopRPC() {
	if s.rpcServer != nil {
		s.rpcServer.Close()
	}
	s.rpcPool.Close()
}

// ServerInfo describes a server to its peers (for list-peers' Node column).
type ServerInfo struct {
	ID           string
	Name         string
	Region       string
	Datacenter   string
	RaftProtocol int
}

func (s *Server) serveOperatorRPC(ctx context.Context, method string, args rpc.Args) (any, error) {
	if method == "Operator.ServerInfo" {
		return s.info(), nil
	}
	return s.serveOperatorCall(ctx, method, args)
}
