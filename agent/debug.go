package agent

import (
	nethttp "net/http"
	"net/http/pprof"
)

// withDebug adds Go's runtime profiles under /debug/pprof/ (enable_debug
// in the agent config), for profiling a server under load: `go tool pprof
// http://ADDR/debug/pprof/profile?seconds=20`. They are off by default:
// they reveal the process's internals and cost CPU while they run.
func withDebug(api nethttp.Handler) nethttp.Handler {
	mux := nethttp.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/", api)
	return mux
}
