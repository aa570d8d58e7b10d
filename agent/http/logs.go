package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"

	"github.com/drover-project/drover/structs"
)

// forwardedHeader marks a log request one agent forwarded to another, so
// that the receiver answers from its own client or not at all, never
// forwarding again.
const forwardedHeader = "X-Drover-Forwarded"

// logChunk is the most one frame carries.
const logChunk = 64 << 10

// logRequest is what GET /v1/client/fs/logs/{alloc} asks for.
type logRequest struct {
	allocID string
	task    string
	logType string // "stdout" or "stderr"
	follow  bool
	fromEnd bool  // origin=end: offset counts back from the end
	offset  int64 // bytes from the origin
	plain   bool  // raw bytes instead of JSON frames
}

// streamFrame is one JSON object of Nomad's framed log stream. Offset is the
// stream position just after Data, so a reader that lost the connection can
// ask again from there. A frame with no fields is a heartbeat.
type streamFrame struct {
	Offset    int64  `json:",omitempty"`
	Data      []byte `json:",omitempty"`
	File      string `json:",omitempty"`
	FileEvent string `json:",omitempty"`
}

// allocLogs answers GET /v1/client/fs/logs/{alloc}: a task's stdout or
// stderr, as Nomad's framed stream or (?plain=true) as raw bytes, from an
// offset counted from the start or the end, optionally following new output.
func (a *api) allocLogs(w http.ResponseWriter, r *http.Request) {
	req, err := parseLogRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	lr, err := a.openLog(req)
	if errors.Is(err, structs.ErrNotFound) && r.Header.Get(forwardedHeader) == "" && a.Server != nil {
		addr, ferr := a.logNodeAddr(r, req)
		if ferr != nil {
			writeError(w, ferr)
			return
		}
		if addr != "" {
			a.proxyLogs(w, r, addr)
			return
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	defer lr.Close()

	var out logWriter
	if req.plain {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		out = plainWriter{w}
	} else {
		w.Header().Set("Content-Type", "application/json")
		out = &frameWriter{enc: json.NewEncoder(w), file: fmt.Sprintf("alloc/logs/%s.%s.0", req.task, req.logType)}
	}
	w.WriteHeader(http.StatusOK)
	flush := func() error { return http.NewResponseController(w).Flush() }
	if err := streamLog(r.Context(), lr, req, out, flush, a.LogHeartbeat); err != nil {
		// The status is sent; all that is left is to end the stream and say why here.
		a.Logger.Warn("log stream ended early", "alloc", req.allocID, "task", req.task, "error", err)
	}
}

// parseLogRequest reads and checks the log request's parameters.
func parseLogRequest(r *http.Request) (*logRequest, error) {
	v := r.URL.Query()
	req := &logRequest{allocID: r.PathValue("alloc"), task: v.Get("task"), logType: v.Get("type")}
	if req.task == "" {
		return nil, badRequest("must include task name: ?task=<name>")
	}
	switch req.logType {
	case "":
		req.logType = "stdout"
	case "stdout", "stderr":
	default:
		return nil, badRequest("invalid log type %q: want stdout or stderr", req.logType)
	}
	switch origin := v.Get("origin"); origin {
	case "", "start":
	case "end":
		req.fromEnd = true
	default:
		return nil, badRequest("invalid origin %q: want start or end", origin)
	}
	if s := v.Get("offset"); s != "" {
		off, err := strconv.ParseInt(s, 10, 64)
		if err != nil || off < 0 {
			return nil, badRequest("invalid offset %q: want a non-negative integer", s)
		}
		req.offset = off
	}
	var err error
	if req.follow, err = boolParam(r, "follow"); err != nil {
		return nil, err
	}
	if req.plain, err = boolParam(r, "plain"); err != nil {
		return nil, err
	}
	return req, nil
}

// openLog opens the log from this agent's client. It fails with
// ErrNotFound when there is no client here or the allocation is not on it.
func (a *api) openLog(req *logRequest) (LogReader, error) {
	if a.Client == nil {
		return nil, notFound("allocation %q does not run on this agent: it runs no client", req.allocID)
	}
	return a.Client.LogReader(req.allocID, req.task, req.logType)
}

// logNodeAddr finds the HTTP address of the node that runs the
// allocation, or "" when it cannot be told.
func (a *api) logNodeAddr(r *http.Request, req *logRequest) (string, error) {
	q := &structs.QueryOptions{Namespace: r.URL.Query().Get("namespace"), AllowStale: true}
	if q.Namespace == "" {
		q.Namespace = structs.DefaultNamespace
	}
	alloc, _, err := a.Server.AllocGet(r.Context(), q, req.allocID)
	if err != nil {
		return "", err
	}
	node, _, err := a.Server.NodeGet(r.Context(), &structs.QueryOptions{AllowStale: true}, alloc.NodeID)
	if errors.Is(err, structs.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return node.HTTPAddr, nil
}

// proxyLogs forwards the request to the HTTP API at addr, marked so that
// the receiver does not forward it again.
func (a *api) proxyLogs(w http.ResponseWriter, r *http.Request, addr string) {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = addr
			pr.Out.Host = addr
			pr.Out.Header.Set(forwardedHeader, "1")
		},
		Transport:     a.Transport,
		FlushInterval: -1, // a followed log must reach the reader as it is written
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("reaching %s for the allocation's logs: %v", addr, err), http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, r)
}

// logWriter sends log bytes in the response's format.
type logWriter interface {
	// data sends p, which ends at stream offset end.
	data(p []byte, end int64) error
	// heartbeat tells the reader the stream is alive.
	heartbeat() error
}

// plainWriter sends raw bytes; it has no way to send a heartbeat.
type plainWriter struct{ w io.Writer }

func (p plainWriter) data(b []byte, _ int64) error {
	_, err := p.w.Write(b)
	return err
}

func (plainWriter) heartbeat() error { return nil }

// frameWriter sends Nomad's JSON frames, one per line.
type frameWriter struct {
	enc  *json.Encoder
	file string
}

func (f *frameWriter) data(b []byte, end int64) error {
	return f.enc.Encode(streamFrame{Offset: end, Data: b, File: f.file})
}

func (f *frameWriter) heartbeat() error { return f.enc.Encode(streamFrame{}) }

// streamLog copies the log to out from the requested position. Without
// follow it stops at the current end; with follow it waits for more until
// the task is finished for good or ctx ends, sending a heartbeat whenever
// nothing arrived for a whole interval.
func streamLog(ctx context.Context, lr LogReader, req *logRequest, out logWriter, flush func() error, heartbeat time.Duration) error {
	size, err := lr.Size()
	if err != nil {
		return err
	}
	pos := min(req.offset, size)
	if req.fromEnd {
		pos = max(size-req.offset, 0)
	}
	buf := make([]byte, logChunk)
	finished := false
	for {
		if pos, err = copyAvailable(lr, pos, buf, out); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if !req.follow || finished {
			return nil
		}
		waitCtx, cancel := context.WithTimeout(ctx, heartbeat)
		err := lr.Wait(waitCtx, pos)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			finished = true // send what was written last, then end
		case ctx.Err() != nil:
			return nil // the reader went away
		case errors.Is(err, context.DeadlineExceeded):
			if err := out.heartbeat(); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// copyAvailable sends everything from pos to the log's current end and
// returns the new position.
func copyAvailable(lr LogReader, pos int64, buf []byte, out logWriter) (int64, error) {
	size, err := lr.Size()
	if err != nil {
		return pos, err
	}
	for pos < size {
		n, err := lr.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		if n > 0 {
			if werr := out.data(buf[:n], pos+int64(n)); werr != nil {
				return pos, werr
			}
			pos += int64(n)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return pos, err
		}
		if n == 0 {
			break // the log reported a size it cannot deliver yet
		}
	}
	return pos, nil
}
