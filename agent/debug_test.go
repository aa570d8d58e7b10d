package agent

import (
	nethttp "net/http"
	"net/http/httptest"
	"testing"
)

// enable_debug turns the profiles on; the API still answers everything else.
func TestEnableDebugServesProfilesBesideTheAPI(t *testing.T) {
	c := DefaultConfig()
	if c.EnableDebug {
		t.Fatal("enable_debug is on by default")
	}
	if err := c.loadConfig("agent.hcl", []byte("enable_debug = true\n")); err != nil {
		t.Fatal(err)
	}
	if !c.EnableDebug {
		t.Fatal("enable_debug = true did not turn it on")
	}

	api := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { w.WriteHeader(nethttp.StatusTeapot) })
	h := withDebug(api)
	for path, want := range map[string]int{"/debug/pprof/": nethttp.StatusOK, "/debug/pprof/heap": nethttp.StatusOK, "/v1/jobs": nethttp.StatusTeapot} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}
