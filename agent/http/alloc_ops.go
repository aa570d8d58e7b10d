package http

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/drover-project/drover/structs"
)

// The allocation operations: on the client, restart, signal, exec, stats
// and the allocation file system; on the servers, stop. A client route
// asked of an agent that does not run the allocation is forwarded to the
// node that does, as for logs.

// ClientOps is what the client routes beyond logs need. The Client given
// in Config implements it when the agent runs a client; routes answer 404
// (or forward) otherwise.
type ClientOps interface {
	// AllocDir fails with ErrNotFound when the allocation has no directory here.
	AllocDir(allocID string) (string, error)
	RestartAlloc(allocID, task string) error
	SignalAlloc(ctx context.Context, allocID, task, sig string) error
	ExecAlloc(ctx context.Context, allocID, task string, opts *ExecOptions) (int, error)
	AllocStats(ctx context.Context, allocID, task string) (*structs.AllocResourceUsage, error)
	HostStats(ctx context.Context) (*structs.HostStats, error)
	StatFile(allocID, path string) (*structs.AllocFileInfo, error)
	ListDir(allocID, path string) ([]*structs.AllocFileInfo, error)
	OpenFile(allocID, path string) (io.ReadCloser, *structs.AllocFileInfo, error)
}

// ExecOptions is one command to run in a task (see client/driver.ExecOptions).
type ExecOptions struct {
	Command        []string
	Tty            bool
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Resize         <-chan structs.TerminalSize
}

// AllocStopper is what PUT /v1/allocation/:id/stop needs of the servers.
type AllocStopper interface {
	AllocStop(ctx context.Context, namespace, allocID string, noShutdownDelay bool) (*structs.AllocStopResponse, error)
}

// registerAllocOps adds the routes of this file.
func (a *api) registerAllocOps(mux *http.ServeMux) {
	mux.HandleFunc("PUT /v1/allocation/{id}/stop", a.write(a.allocStop))
	mux.HandleFunc("POST /v1/allocation/{id}/stop", a.write(a.allocStop))
	for _, m := range []string{"PUT", "POST"} {
		mux.HandleFunc(m+" /v1/client/allocation/{alloc}/restart", a.clientRoute(a.allocRestart))
		mux.HandleFunc(m+" /v1/client/allocation/{alloc}/signal", a.clientRoute(a.allocSignal))
	}
	mux.HandleFunc("GET /v1/client/allocation/{alloc}/stats", a.clientRoute(a.allocStats))
	mux.HandleFunc("GET /v1/client/allocation/{alloc}/exec", a.clientRoute(a.allocExec))
	mux.HandleFunc("GET /v1/client/fs/ls/{alloc}", a.clientRoute(a.fsList))
	mux.HandleFunc("GET /v1/client/fs/stat/{alloc}", a.clientRoute(a.fsStat))
	mux.HandleFunc("GET /v1/client/fs/cat/{alloc}", a.clientRoute(a.fsCat))
	mux.HandleFunc("GET /v1/client/stats", a.hostStats)
}

// allocStop answers PUT /v1/allocation/:id/stop: the allocation is marked
// to migrate and an evaluation replaces it.
func (a *api) allocStop(r *http.Request, q *structs.QueryOptions) (any, uint64, error) {
	s, ok := a.Server.(AllocStopper)
	if !ok {
		return nil, 0, errors.New("this server cannot stop allocations")
	}
	noDelay, err := boolParam(r, "no_shutdown_delay")
	if err != nil {
		return nil, 0, err
	}
	resp, err := s.AllocStop(r.Context(), q.Namespace, r.PathValue("id"), noDelay)
	if err != nil {
		return nil, 0, err
	}
	return resp, resp.Index, nil
}

// clientOpFunc answers a client route from this agent's client.
type clientOpFunc func(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string)

// clientRoute runs fn when the allocation is on this agent's client, and
// forwards the request to the allocation's node otherwise.
func (a *api) clientRoute(fn clientOpFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allocID := r.PathValue("alloc")
		ops, _ := a.Client.(ClientOps)
		var err error
		if ops == nil {
			err = notFound("allocation %q does not run on this agent: it runs no client", allocID)
		} else {
			_, err = ops.AllocDir(allocID)
		}
		if errors.Is(err, structs.ErrNotFound) && r.Header.Get(forwardedHeader) == "" && a.Server != nil {
			addr, ferr := a.logNodeAddr(r, &logRequest{allocID: allocID})
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
		fn(w, r, ops, allocID)
	}
}

func (a *api) allocRestart(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	var req structs.AllocRestartRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			writeError(w, err)
			return
		}
	}
	if req.TaskName == "" {
		req.TaskName = r.URL.Query().Get("task")
	}
	if err := ops.RestartAlloc(allocID, req.TaskName); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, structs.GenericResponse{})
}

func (a *api) allocSignal(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	var req structs.AllocSignalRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			writeError(w, err)
			return
		}
	}
	if err := ops.SignalAlloc(r.Context(), allocID, req.Task, req.Signal); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, structs.GenericResponse{})
}

func (a *api) allocStats(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	stats, err := ops.AllocStats(r.Context(), allocID, r.URL.Query().Get("task"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, stats)
}

// hostStats answers GET /v1/client/stats for this agent's client. With
// ?node_id= naming another node, it is forwarded there.
func (a *api) hostStats(w http.ResponseWriter, r *http.Request) {
	ops, _ := a.Client.(ClientOps)
	nodeID := r.URL.Query().Get("node_id")
	if nodeID != "" && r.Header.Get(forwardedHeader) == "" && a.Server != nil {
		node, _, err := a.Server.NodeGet(r.Context(), &structs.QueryOptions{AllowStale: true}, nodeID)
		if err != nil {
			writeError(w, err)
			return
		}
		if a.localNodeID() != node.ID {
			a.proxyLogs(w, r, node.HTTPAddr)
			return
		}
	}
	if ops == nil {
		writeError(w, notFound("this agent runs no client: name a node with ?node_id="))
		return
	}
	stats, err := ops.HostStats(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, stats)
}

// localNodeID is the ID of this agent's client node, or "".
func (a *api) localNodeID() string {
	if n, ok := a.Client.(interface{ NodeID() string }); ok {
		return n.NodeID()
	}
	return ""
}

// fsPath is the ?path= of an fs route ("/" when absent).
func fsPath(r *http.Request) string {
	if p := r.URL.Query().Get("path"); p != "" {
		return p
	}
	return "/"
}

func (a *api) fsList(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	files, err := ops.ListDir(allocID, fsPath(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, files)
}

func (a *api) fsStat(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	fi, err := ops.StatFile(allocID, fsPath(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, r, fi)
}

func (a *api) fsCat(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	f, fi, err := ops.OpenFile(allocID, fsPath(r))
	if err != nil {
		writeError(w, err)
		return
	}
	defer f.Close()
	ctype := mime.TypeByExtension(path.Ext(fi.Name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.FormatInt(fi.Size, 10))
	if _, err := io.CopyN(w, f, fi.Size); err != nil && !errors.Is(err, io.EOF) {
		a.Logger.Warn("fs cat ended early", "alloc", allocID, "path", fi.Name, "error", err)
	}
}

// execUpgrader accepts the exec websocket. Browsers are held to the same
// origin (gorilla's default); the CLI and Go clients send no Origin.
var execUpgrader = websocket.Upgrader{ReadBufferSize: 32 << 10, WriteBufferSize: 32 << 10}

// execWriteWait bounds one websocket write.
const execWriteWait = 10 * time.Second

// allocExec answers GET /v1/client/allocation/:id/exec with Nomad's
// websocket protocol: query parameters task, tty and command (a JSON array),
// then ExecStreamingInput frames in and ExecStreamingOutput frames out,
// ending with {"exited":true,"result":{"exit_code":N}} and a normal close.
// A command that cannot run closes with an internal-error close frame
// whose text says why.
func (a *api) allocExec(w http.ResponseWriter, r *http.Request, ops ClientOps, allocID string) {
	q := r.URL.Query()
	task := q.Get("task")
	if task == "" {
		writeError(w, badRequest("must include task name: ?task=<name>"))
		return
	}
	var command []string
	if err := json.Unmarshal([]byte(q.Get("command")), &command); err != nil || len(command) == 0 {
		writeError(w, badRequest(`command must be a non-empty JSON array of strings, e.g. ?command=["/bin/sh"]`))
		return
	}
	tty, err := boolParam(r, "tty")
	if err != nil {
		writeError(w, err)
		return
	}
	conn, err := execUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered the request with an error
	}
	defer conn.Close()

	s := &execSession{conn: conn}
	stdinR, stdinW := io.Pipe()
	resize := make(chan structs.TerminalSize, 4)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go s.readInput(stdinW, resize, cancel)

	code, err := ops.ExecAlloc(ctx, allocID, task, &ExecOptions{
		Command: command,
		Tty:     tty,
		Stdin:   stdinR,
		Stdout: s.writer(func(op *structs.ExecStreamingIOOperation) structs.ExecStreamingOutput {
			return structs.ExecStreamingOutput{Stdout: op}
		}),
		Stderr: s.writer(func(op *structs.ExecStreamingIOOperation) structs.ExecStreamingOutput {
			return structs.ExecStreamingOutput{Stderr: op}
		}),
		Resize: resize,
	})
	stdinR.Close()
	if err != nil {
		s.close(websocket.CloseInternalServerErr, err.Error())
		return
	}
	if err := s.send(structs.ExecStreamingOutput{Exited: true, Result: &structs.ExecStreamingExitResult{ExitCode: code}}); err != nil {
		return
	}
	s.close(websocket.CloseNormalClosure, "")
}

// execSession serialises the writes of one exec websocket.
type execSession struct {
	mu   sync.Mutex
	conn *websocket.Conn
}

func (s *execSession) send(frame structs.ExecStreamingOutput) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(execWriteWait))
	return s.conn.WriteJSON(frame)
}

func (s *execSession) close(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := websocket.FormatCloseMessage(code, truncateCloseText(text))
	_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(execWriteWait))
}

// truncateCloseText keeps a close reason within the 123 bytes a close
// frame can carry.
func truncateCloseText(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// writer returns an io.Writer that sends each write as one frame.
func (s *execSession) writer(frame func(*structs.ExecStreamingIOOperation) structs.ExecStreamingOutput) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		data := append([]byte(nil), p...)
		if err := s.send(frame(&structs.ExecStreamingIOOperation{Data: data})); err != nil {
			return 0, err
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// readInput feeds the caller's frames to the command: stdin data and its
// close, and terminal sizes. A connection that ends cancels the command.
func (s *execSession) readInput(stdin *io.PipeWriter, resize chan<- structs.TerminalSize, cancel context.CancelFunc) {
	defer close(resize)
	for {
		var in structs.ExecStreamingInput
		if err := s.conn.ReadJSON(&in); err != nil {
			stdin.CloseWithError(fmt.Errorf("exec input ended: %w", err))
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
				cancel()
			}
			return
		}
		if in.Stdin != nil {
			if len(in.Stdin.Data) > 0 {
				if _, err := stdin.Write(in.Stdin.Data); err != nil {
					continue // the command no longer reads its input
				}
			}
			if in.Stdin.Close {
				stdin.Close()
			}
		}
		if in.TTYSize != nil {
			select {
			case resize <- *in.TTYSize:
			default: // a newer size will follow
			}
		}
	}
}

// Hijack lets the exec route take over the connection for its websocket;
// the request is then logged as switching protocols.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		r.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}
