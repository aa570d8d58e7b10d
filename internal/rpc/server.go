package rpc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// Handler answers calls. The reply it returns is sent as JSON; its error
// keeps its class (see errorKinds) on the caller's side.
type Handler interface {
	ServeRPC(ctx context.Context, method string, args Args) (reply any, err error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, method string, args Args) (any, error)

// ServeRPC calls f.
func (f HandlerFunc) ServeRPC(ctx context.Context, method string, args Args) (any, error) {
	return f(ctx, method, args)
}

// errCallerGone ends a request body whose caller's connection broke.
var errCallerGone = errors.New("the caller's connection was lost")

// Server serves the RPC connections a Mux hands over: one yamux session per
// connection, one call per stream.
type Server struct {
	mux     *Mux
	handler Handler
	log     *slog.Logger

	mu       sync.Mutex
	sessions map[*yamux.Session]struct{}
	wg       sync.WaitGroup
	closed   chan struct{}
	once     sync.Once
}

// Serve starts serving RPC on m until m or the server closes.
func Serve(m *Mux, h Handler, log *slog.Logger) *Server {
	s := &Server{mux: m, handler: h, log: log, sessions: map[*yamux.Session]struct{}{}, closed: make(chan struct{})}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func yamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.LogOutput = io.Discard
	// A peer that vanished without a reset (a partition) is noticed within
	// a few seconds, so forwarded calls fail instead of hanging.
	c.KeepAliveInterval = 5 * time.Second
	c.ConnectionWriteTimeout = 5 * time.Second
	return c
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		select {
		case conn := <-s.mux.rpc:
			sess, err := yamux.Server(newFrameConn(conn), yamuxConfig())
			if err != nil {
				s.log.Warn("rpc: cannot start session", "remote", conn.RemoteAddr(), "error", err)
				conn.Close()
				continue
			}
			s.mu.Lock()
			s.sessions[sess] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serveSession(sess)
		case <-s.mux.closed:
			s.closeSessions()
			return
		case <-s.closed:
			s.closeSessions()
			return
		}
	}
}

func (s *Server) closeSessions() {
	s.mu.Lock()
	for sess := range s.sessions {
		sess.Close()
	}
	s.mu.Unlock()
}

// Close stops serving RPC: it closes every session, which ends the calls
// in flight, and waits for them. The mux (and Raft on it) stays open.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.wg.Wait()
}

func (s *Server) serveSession(sess *yamux.Session) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess)
		s.mu.Unlock()
		sess.Close()
	}()
	for {
		stream, err := sess.AcceptStream()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, yamux.ErrSessionShutdown) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("rpc: session ended", "remote", sess.RemoteAddr(), "error", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveStream(stream)
		}()
	}
}

// serveStream answers the calls of one stream: one, or one after the
// other while the caller asks to keep the stream (request.Keep).
func (s *Server) serveStream(stream *yamux.Stream) {
	defer stream.Close()
	var req request
	if err := readMsg(stream, &req); err != nil {
		s.log.Debug("rpc: unreadable request", "remote", stream.RemoteAddr(), "error", err)
		return
	}
	for {
		next := s.serveCall(stream, &req)
		if next == nil {
			return
		}
		req = *next
	}
}

// nextCall is what a kept stream carried after a call: the caller's next
// call, or the error that ended the stream.
type nextCall struct {
	req request
	err error
}

// serveCall answers one call. On a kept stream it returns the caller's
// next call once it arrives; nil means the stream is done.
func (s *Server) serveCall(stream *yamux.Stream, req *request) *request {
	// The caller closes its side to cancel (or vanishes): either way the
	// read below returns and the handler's context ends. With a body, the
	// watch starts once the body has been read to its end. On a kept
	// stream the caller sends nothing before the answer, so the read is
	// that of its next call: an error there is the cancel.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watchCancel := func() {
		go func() {
			var b [1]byte
			stream.Read(b[:])
			cancel()
		}()
	}
	keep := req.Keep && !req.Body
	var next chan nextCall
	args := Args{data: req.Args}
	switch {
	case req.Body:
		args.body = &chunkReader{r: stream, what: "body of " + req.Method, onDone: watchCancel, lost: errCallerGone}
	case keep:
		next = make(chan nextCall, 1)
		go func() {
			var n nextCall
			if n.err = readMsg(stream, &n.req); n.err != nil {
				cancel()
			}
			next <- n
		}()
	default:
		watchCancel()
	}

	reply, err := s.handler.ServeRPC(ctx, req.Method, args)
	if streamer, ok := reply.(Streamer); ok && err == nil {
		// The stream's end tells the caller the chunks are over.
		if err := writeMsg(stream, &response{Stream: true}); err != nil {
			return nil
		}
		if err := sendStream(ctx, stream, streamer); err != nil {
			s.log.Debug("rpc: cannot send stream", "method", req.Method, "remote", stream.RemoteAddr(), "error", err)
		}
		return nil
	}
	resp := response{Kept: keep}
	if err != nil {
		resp.Kind, resp.Error = kindOf(err), err.Error()
	} else if resp.Reply, err = marshalJSON(reply); err != nil {
		resp.Error = "rpc: encoding reply of " + req.Method + ": " + err.Error()
	}
	if err := writeMsg(stream, &resp); err != nil {
		s.log.Debug("rpc: cannot send reply", "method", req.Method, "remote", stream.RemoteAddr(), "error", err)
		return nil
	}
	if !keep {
		return nil
	}
	n := <-next
	if n.err != nil {
		// The caller closed the stream: its usual end.
		return nil
	}
	return &n.req
}
