package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/structs"
)

// ErrNoReply means the request went out but the connection broke before
// the answer came back: the remote side may or may not have acted on it.
// It wraps structs.ErrOutcomeUnknown.
var ErrNoReply = fmt.Errorf("%w: the connection was lost after the request was sent", structs.ErrOutcomeUnknown)

// ErrNotSent means the call never left this process (the peer could not
// be reached): it certainly had no effect, so it is safe to try again.
var ErrNotSent = errors.New("the request was not sent")

// dialTimeout bounds connecting to a peer.
const dialTimeout = 5 * time.Second

// maxIdleStreams bounds the answered streams a pool keeps per address for
// later calls. A follower forwards about as many calls at once as it has
// writers; beyond this, streams are closed after their call.
const maxIdleStreams = 64

// Pool keeps one yamux session per remote address and makes calls over
// them, one stream per call at a time: a stream whose call was answered is
// kept for the next call when the server agrees (see response.Kept). Safe
// for concurrent use.
type Pool struct {
	mu       sync.Mutex
	sessions map[string]*yamux.Session
	idle     map[string][]idleStream
	closed   bool
}

// idleStream is an answered stream whose server waits for another call.
type idleStream struct {
	sess   *yamux.Session
	stream *yamux.Stream
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{sessions: map[string]*yamux.Session{}, idle: map[string][]idleStream{}}
}

// Close closes every session; calls in flight fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, s := range p.sessions {
		s.Close()
		delete(p.sessions, addr)
	}
	for addr, streams := range p.idle {
		for _, s := range streams {
			s.stream.Close()
		}
		delete(p.idle, addr)
	}
	return nil
}

// Call invokes method at addr with args and decodes the answer into reply
// (which may be nil). It returns when the answer arrives or ctx ends; an
// error from the remote handler keeps its class (errors.Is with structs'
// errors works), and a connection lost mid-call is ErrNoReply.
func (p *Pool) Call(ctx context.Context, addr, method string, args, reply any) error {
	return p.call(ctx, addr, method, args, nil, reply)
}

// CallWithBody is Call with a byte stream sent after the arguments (the
// handler reads it from Args.Body). A body that fails to read fails the
// call on both sides.
func (p *Pool) CallWithBody(ctx context.Context, addr, method string, args any, body io.Reader, reply any) error {
	return p.call(ctx, addr, method, args, body, reply)
}

func (p *Pool) call(ctx context.Context, addr, method string, args any, body io.Reader, reply any) error {
	data, err := marshalJSON(args)
	if err != nil {
		return fmt.Errorf("rpc: encoding arguments of %s: %w", method, err)
	}
	// A call with a body ends its stream: the server reads the body up to
	// the stream's end only as chunks, not as a next call.
	keep := body == nil
	var s idleStream
	if keep {
		s = p.takeIdle(addr)
	}
	if s.stream == nil {
		if s.sess, s.stream, err = p.openStream(ctx, addr); err != nil {
			return fmt.Errorf("%w: %w", ErrNotSent, err)
		}
	}
	kept := false
	defer func() {
		if kept {
			p.putIdle(addr, s)
		} else {
			s.stream.Close()
		}
	}()

	stream := s.stream
	stop := context.AfterFunc(ctx, func() { stream.Close() })
	// The stream may serve another call only if the answer was read whole
	// and ctx did not close it meanwhile (stop reports that it did not).
	defer func() { kept = stop() && kept }()

	err = writeMsg(stream, &request{Method: method, Args: data, Body: body != nil, Keep: keep})
	if err == nil && body != nil {
		err = sendStream(ctx, stream, StreamFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.Copy(w, body)
			return err
		}))
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("rpc: %s to %s: %w (%v)", method, addr, ErrNoReply, err)
	}
	var resp response
	if err := readMsg(stream, &resp); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("rpc: %s to %s: %w (%v)", method, addr, ErrNoReply, err)
	}
	if ctx.Err() != nil {
		// Cancelled while the answer was on its way: the caller gave up.
		return ctx.Err()
	}
	kept = keep && resp.Kept && !resp.Stream
	if resp.Error != "" {
		return remoteError(resp.Kind, resp.Error)
	}
	if reply == nil || len(resp.Reply) == 0 {
		return nil
	}
	if err := jsondecode.Unmarshal(resp.Reply, reply); err != nil {
		return fmt.Errorf("rpc: decoding reply of %s from %s: %w", method, addr, err)
	}
	return nil
}

// openStream opens a stream on the session to addr, dialing one when there
// is none or the old one died. Nothing is sent yet, so one retry on a fresh
// session is safe.
func (p *Pool) openStream(ctx context.Context, addr string) (*yamux.Session, *yamux.Stream, error) {
	for attempt := 0; ; attempt++ {
		sess, err := p.session(ctx, addr)
		if err != nil {
			return nil, nil, err
		}
		stream, err := sess.OpenStream()
		if err == nil {
			return sess, stream, nil
		}
		p.dropSession(addr, sess)
		if attempt > 0 {
			return nil, nil, fmt.Errorf("rpc: open stream to %s: %w", addr, err)
		}
	}
}

// takeIdle returns a kept stream to addr whose session is alive, or the
// zero idleStream.
func (p *Pool) takeIdle(addr string) idleStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	for streams := p.idle[addr]; len(streams) > 0; streams = p.idle[addr] {
		s := streams[len(streams)-1]
		p.idle[addr] = streams[:len(streams)-1]
		if !s.sess.IsClosed() {
			return s
		}
		s.stream.Close()
	}
	return idleStream{}
}

// putIdle keeps an answered stream for a later call to addr.
func (p *Pool) putIdle(addr string, s idleStream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || s.sess.IsClosed() || len(p.idle[addr]) >= maxIdleStreams {
		s.stream.Close()
		return
	}
	p.idle[addr] = append(p.idle[addr], s)
}

func (p *Pool) session(ctx context.Context, addr string) (*yamux.Session, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("rpc: pool is closed")
	}
	if s := p.sessions[addr]; s != nil && !s.IsClosed() {
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()

	// Dial outside the lock: a slow peer must not hold up calls to others.
	// Two racing dials both succeed; the loser's session is closed.
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, err)
	}
	if _, err := conn.Write([]byte{ProtoRPC}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, err)
	}
	sess, err := yamux.Client(newFrameConn(conn), yamuxConfig())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rpc: start session with %s: %w", addr, err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		sess.Close()
		return nil, errors.New("rpc: pool is closed")
	}
	if s := p.sessions[addr]; s != nil && !s.IsClosed() {
		sess.Close()
		return s, nil
	}
	p.sessions[addr] = sess
	return sess, nil
}

func (p *Pool) dropSession(addr string, s *yamux.Session) {
	p.mu.Lock()
	if p.sessions[addr] == s {
		delete(p.sessions, addr)
	}
	p.mu.Unlock()
	s.Close()
}

func marshalJSON(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}
