package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/internal/benchjob"
	"github.com/drover-project/drover/structs"
)

// registerOnly answers registrations at once, so the benchmark measures
// only the HTTP side of one: routing, decoding, answering, logging.
type registerOnly struct{ agenthttp.Server }

func (registerOnly) JobRegister(ctx context.Context, req *structs.JobRegisterRequest) (*structs.JobRegisterResponse, error) {
	return &structs.JobRegisterResponse{EvalID: "0b3b5b2e-6a55-4bb8-93c4-3f1e0b0c6d1e", EvalCreateIndex: 42, JobModifyIndex: 42, Index: 42}, nil
}

// BenchmarkJobRegister is one PUT /v1/jobs of the bench/cluster job, as the
// Go client sends it, through the whole handler with the agent's default
// (info) log level.
func BenchmarkJobRegister(b *testing.B) {
	job, err := benchjob.New("bench")
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(&structs.JobRegisterRequest{Job: job})
	if err != nil {
		b.Fatal(err)
	}
	h := agenthttp.New(agenthttp.Config{
		Server: registerOnly{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPut, "/v1/jobs", bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("answered %d: %s", w.Code, w.Body)
		}
	}
}
