package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/drover-project/drover/structs"
)

// The allocation operations: stop (servers), and restart, signal, stats,
// exec and the file system (the client that runs the allocation, reached
// through any agent).

// Stop stops the allocation and has it replaced; the answer names the
// evaluation that places the replacement.
func (a *Allocations) Stop(allocID string, noShutdownDelay bool) (*structs.AllocStopResponse, error) {
	params := a.c.params(nil)
	if noShutdownDelay {
		params.Set("no_shutdown_delay", "true")
	}
	var out structs.AllocStopResponse
	index, err := a.c.write(http.MethodPut, "/v1/allocation/"+escape(allocID)+"/stop", params, struct{}{}, &out)
	if err != nil {
		return nil, err
	}
	out.Index = max(out.Index, index)
	return &out, nil
}

// Restart restarts one task of the allocation, or every running task when
// task is "".
func (a *Allocations) Restart(allocID, task string) error {
	var out structs.GenericResponse
	_, err := a.c.write(http.MethodPut, "/v1/client/allocation/"+escape(allocID)+"/restart", a.c.params(nil),
		&structs.AllocRestartRequest{TaskName: task}, &out)
	return err
}

// Signal sends signal (empty: SIGKILL) to one task, or to every running
// task when task is "".
func (a *Allocations) Signal(allocID, task, signal string) error {
	var out structs.GenericResponse
	_, err := a.c.write(http.MethodPut, "/v1/client/allocation/"+escape(allocID)+"/signal", a.c.params(nil),
		&structs.AllocSignalRequest{Task: task, Signal: signal}, &out)
	return err
}

// Stats samples the resource usage of the allocation's running tasks.
func (a *Allocations) Stats(allocID string, q *QueryOptions) (*structs.AllocResourceUsage, error) {
	var out structs.AllocResourceUsage
	if _, err := a.c.query("/v1/client/allocation/"+escape(allocID)+"/stats", q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Stats samples what the node's machine uses.
func (n *Nodes) Stats(nodeID string, q *QueryOptions) (*structs.HostStats, error) {
	var out structs.HostStats
	if _, err := n.c.query("/v1/client/stats", withParam(q, "node_id", nodeID), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// List lists a directory of the allocation's directory.
func (f *AllocFS) List(allocID, path string, q *QueryOptions) ([]*structs.AllocFileInfo, error) {
	var out []*structs.AllocFileInfo
	_, err := f.c.query("/v1/client/fs/ls/"+escape(allocID), withParam(q, "path", path), &out)
	return out, err
}

// Stat describes one file of the allocation's directory.
func (f *AllocFS) Stat(allocID, path string, q *QueryOptions) (*structs.AllocFileInfo, error) {
	var out structs.AllocFileInfo
	if _, err := f.c.query("/v1/client/fs/stat/"+escape(allocID), withParam(q, "path", path), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Cat opens a file of the allocation's directory.
func (f *AllocFS) Cat(allocID, path string, q *QueryOptions) (io.ReadCloser, error) {
	q = withParam(q, "path", path)
	resp, err := f.c.do(q.Context(), http.MethodGet, "/v1/client/fs/cat/"+escape(allocID), f.c.params(q), nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ExecRequest is a command to run in a task.
type ExecRequest struct {
	Task    string
	Command []string
	Tty     bool
	// Stdin is sent to the command until EOF; nil sends none (and closes
	// the command's input at once).
	Stdin io.Reader
	// Stdout and Stderr receive the output (with Tty, all of it on Stdout).
	Stdout, Stderr io.Writer
	// Resize carries terminal size changes.
	Resize <-chan structs.TerminalSize
}

// Exec runs a command in a task of the allocation over the agent's exec
// websocket (Nomad's protocol) and returns its exit code. Ending ctx ends
// the command.
func (a *Allocations) Exec(ctx context.Context, allocID string, req *ExecRequest) (int, error) {
	command, err := json.Marshal(req.Command)
	if err != nil {
		return 0, err
	}
	params := a.c.params(nil)
	params.Set("task", req.Task)
	params.Set("tty", strconv.FormatBool(req.Tty))
	params.Set("command", string(command))
	u := a.c.base.JoinPath("/v1/client/allocation/" + escape(allocID) + "/exec")
	u.RawQuery = params.Encode()
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), nil)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			return 0, &StatusError{Code: resp.StatusCode, Body: string(msg)}
		}
		return 0, err
	}
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close() // unblocks the reads below
	}()

	var wmu sync.Mutex
	send := func(in structs.ExecStreamingInput) error {
		wmu.Lock()
		defer wmu.Unlock()
		return conn.WriteJSON(in)
	}
	go sendInput(req.Stdin, req.Resize, send)

	stdout, stderr := orDiscard(req.Stdout), orDiscard(req.Stderr)
	for {
		var out structs.ExecStreamingOutput
		if err := conn.ReadJSON(&out); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.CloseNormalClosure {
				return 0, fmt.Errorf("exec failed: %s", ce.Text)
			}
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("exec: connection ended before the command's exit: %w", err)
		}
		if out.Stdout != nil && len(out.Stdout.Data) > 0 {
			if _, err := stdout.Write(out.Stdout.Data); err != nil {
				return 0, err
			}
		}
		if out.Stderr != nil && len(out.Stderr.Data) > 0 {
			if _, err := stderr.Write(out.Stderr.Data); err != nil {
				return 0, err
			}
		}
		if out.Exited && out.Result != nil {
			wmu.Lock()
			_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			wmu.Unlock()
			return out.Result.ExitCode, nil
		}
	}
}

// sendInput sends stdin as frames, then its close, and terminal sizes.
func sendInput(stdin io.Reader, resize <-chan structs.TerminalSize, send func(structs.ExecStreamingInput) error) {
	if resize != nil {
		go func() {
			for s := range resize {
				if send(structs.ExecStreamingInput{TTYSize: &s}) != nil {
					return
				}
			}
		}()
	}
	if stdin != nil {
		buf := make([]byte, 32<<10)
		for {
			n, err := stdin.Read(buf)
			if n > 0 {
				data := append([]byte(nil), buf[:n]...)
				if send(structs.ExecStreamingInput{Stdin: &structs.ExecStreamingIOOperation{Data: data}}) != nil {
					return
				}
			}
			if err != nil {
				break
			}
		}
	}
	_ = send(structs.ExecStreamingInput{Stdin: &structs.ExecStreamingIOOperation{Close: true}})
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
