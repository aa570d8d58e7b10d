// Package http serves drover's HTTP API: the Nomad-compatible /v1 routes for
// jobs, allocations, evaluations, nodes, status, the agent and task logs. It
// translates between HTTP and the Server, Client and Agent interfaces of
// backend.go and holds no cluster state of its own.
package http

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/drover-project/drover/structs"
)

// Config is what the API needs to answer requests.
type Config struct {
	// Server answers everything but /v1/client/ routes and /v1/jobs/parse.
	// On an agent without one (nil) those routes answer 500.
	Server Server
	// Client serves task logs of allocations on this node; nil on an agent
	// without a client, which then forwards log requests to the allocation's
	// node.
	Client Client
	// Agent describes this agent for /v1/agent/self; nil answers an empty object.
	Agent Agent
	// Operator answers the /v1/operator routes; nil (no server) answers 500.
	Operator Operator
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// ParseJob turns HCL into a job for /v1/jobs/parse. Nil uses jobspec.Parse.
	ParseJob func(src []byte, variables string) (*structs.Job, error)
	// LogHeartbeat is how often a followed log stream with nothing new sends
	// an empty frame, so proxies and clients see the connection is alive.
	// Zero means one second.
	LogHeartbeat time.Duration
	// Transport carries log requests forwarded to other nodes; nil uses
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// api holds the configuration the handlers share.
type api struct {
	Config
}

// New returns the handler of every /v1 route.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ParseJob == nil {
		cfg.ParseJob = parseWithJobspec
	}
	if cfg.LogHeartbeat <= 0 {
		cfg.LogHeartbeat = time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	a := &api{Config: cfg}

	mux := http.NewServeMux()
	// Jobs.
	mux.HandleFunc("GET /v1/jobs", a.read(a.jobList))
	mux.HandleFunc("PUT /v1/jobs", a.write(a.jobRegister))
	mux.HandleFunc("POST /v1/jobs", a.write(a.jobRegister))
	mux.HandleFunc("PUT /v1/jobs/parse", a.jobsParse)
	mux.HandleFunc("POST /v1/jobs/parse", a.jobsParse)
	mux.HandleFunc("GET /v1/job/{id}", a.read(a.jobGet))
	mux.HandleFunc("PUT /v1/job/{id}", a.write(a.jobRegister))
	mux.HandleFunc("POST /v1/job/{id}", a.write(a.jobRegister))
	mux.HandleFunc("DELETE /v1/job/{id}", a.write(a.jobDeregister))
	mux.HandleFunc("GET /v1/job/{id}/allocations", a.read(a.jobAllocations))
	mux.HandleFunc("GET /v1/job/{id}/evaluations", a.read(a.jobEvaluations))
	mux.HandleFunc("GET /v1/job/{id}/summary", a.read(a.jobSummary))
	// Allocations.
	mux.HandleFunc("GET /v1/allocations", a.read(a.allocList))
	mux.HandleFunc("GET /v1/allocation/{id}", a.read(a.allocGet))
	// Evaluations.
	mux.HandleFunc("GET /v1/evaluations", a.read(a.evalList))
	mux.HandleFunc("GET /v1/evaluation/{id}", a.read(a.evalGet))
	mux.HandleFunc("GET /v1/evaluation/{id}/allocations", a.read(a.evalAllocations))
	// Nodes.
	mux.HandleFunc("GET /v1/nodes", a.read(a.nodeList))
	mux.HandleFunc("GET /v1/node/{id}", a.read(a.nodeGet))
	mux.HandleFunc("GET /v1/node/{id}/allocations", a.read(a.nodeAllocations))
	a.registerNodeDrain(mux) // node_drain.go: drain, eligibility
	a.registerSystemGC(mux)  // system_gc.go: PUT /v1/system/gc
	// Status and agent.
	mux.HandleFunc("GET /v1/status/leader", a.read(a.statusLeader))
	mux.HandleFunc("GET /v1/status/peers", a.read(a.statusPeers))
	mux.HandleFunc("GET /v1/agent/self", a.read(a.agentSelf))
	// Client.
	mux.HandleFunc("GET /v1/client/fs/logs/{alloc}", a.allocLogs)
	a.registerAllocOps(mux) // alloc_ops.go: restart, signal, stop, exec, stats, fs
	a.registerOperator(mux) // operator.go: raft peers, snapshots
	// job_plan.go, job_versions.go and operator_scheduler.go: dry runs,
	// versions, revert, scale, scheduler configuration.
	a.registerJobPlan(mux)
	a.registerJobVersions(mux)
	a.registerDeployments(mux) // deployments.go
	a.registerSchedulerConfig(mux)
	// agent_members.go: gossip members, join, force-leave.
	a.registerMembership(mux)
	// services.go: service registrations.
	a.registerServices(mux)

	return a.logRequests(mux)
}

// logRequests logs each request at debug level once it is answered. At
// the agent's default level (info) it costs nothing more than the check:
// no clock reading, wrapper or log arguments per request.
func (a *api) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Logger.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		a.Logger.Debug("http request",
			"method", r.Method,
			"path", r.URL.Path,
			"status", rec.status,
			"duration", time.Since(start))
	})
}

// statusRecorder remembers the status a handler answered. Unwrap lets
// http.ResponseController reach the underlying writer's Flush.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
