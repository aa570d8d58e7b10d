// Package rpc carries agent-to-agent traffic. One TCP port serves both Raft
// and drover's internal RPC: the first byte of each connection says which.
package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Protocol bytes: the first byte a dialer writes on a new connection.
// Only ever append new values.
const (
	ProtoRaft byte = 0x01
	ProtoRPC  byte = 0x02
)

// firstByteTimeout bounds how long an idle connection may hold a goroutine
// before saying what it is.
const firstByteTimeout = 10 * time.Second

// Mux accepts connections on one listener and hands each to the protocol
// its first byte names.
type Mux struct {
	ln      net.Listener
	log     *slog.Logger
	raft    chan net.Conn
	rpc     chan net.Conn
	closed  chan struct{}
	once    sync.Once
	advAddr net.Addr

	// dialCtx is cancelled by Close, so a raft dial to a peer that
	// does not answer returns at once.
	dialCtx    context.Context
	cancelDial context.CancelFunc
	// raftConns are the raft connections this side dialed and has not
	// closed. Close closes them: raft sets a 10 s deadline on each call,
	// and raft.Shutdown waits for its replication goroutines, so a call to
	// a partitioned peer would otherwise hold a shutdown for that long.
	// Accepted connections are left to raft: their goroutines hold no
	// shutdown, and closing them under raft only logs decode errors.
	connMu    sync.Mutex
	raftConns map[*raftConn]struct{}
}

// Listen opens the shared port. advertise is the address peers use to reach
// it; when nil the listener's own address is used.
func Listen(addr string, advertise net.Addr, log *slog.Logger) (*Mux, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rpc: listen on %s: %w", addr, err)
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	if tcp, ok := advertise.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("rpc: address %s cannot be advertised to peers; set an advertise address", advertise)
	}
	m := &Mux{
		ln:      ln,
		log:     log,
		raft:    make(chan net.Conn, 16),
		rpc:     make(chan net.Conn, 16),
		closed:  make(chan struct{}),
		advAddr: advertise,

		raftConns: make(map[*raftConn]struct{}),
	}
	m.dialCtx, m.cancelDial = context.WithCancel(context.Background())
	go m.serve()
	return m, nil
}

// Addr is the address the mux listens on.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Advertise is the address peers dial.
func (m *Mux) Advertise() net.Addr { return m.advAddr }

// Close stops accepting connections and closes the raft connections it
// dialed.
func (m *Mux) Close() error {
	var err error
	m.once.Do(func() {
		close(m.closed)
		m.cancelDial()
		err = m.ln.Close()
		m.connMu.Lock()
		conns := m.raftConns
		m.raftConns = nil
		m.connMu.Unlock()
		for c := range conns {
			c.Conn.Close()
		}
	})
	return err
}

func (m *Mux) serve() {
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Error("rpc: accept failed", "error", err)
			return
		}
		go m.route(conn)
	}
}

func (m *Mux) route(conn net.Conn) {
	buf := make([]byte, 1)
	conn.SetReadDeadline(time.Now().Add(firstByteTimeout))
	if _, err := conn.Read(buf); err != nil {
		m.log.Debug("rpc: connection closed before its protocol byte", "remote", conn.RemoteAddr(), "error", err)
		conn.Close()
		return
	}
	conn.SetReadDeadline(time.Time{})
	var ch chan net.Conn
	switch buf[0] {
	case ProtoRaft:
		ch = m.raft
	case ProtoRPC:
		ch = m.rpc
	default:
		m.log.Warn("rpc: unknown protocol byte", "remote", conn.RemoteAddr(), "byte", buf[0])
		conn.Close()
		return
	}
	select {
	case ch <- conn:
	case <-m.closed:
		conn.Close()
	}
}

// RaftLayer returns the raft.StreamLayer that rides on this mux.
func (m *Mux) RaftLayer() raft.StreamLayer { return &raftLayer{m: m} }

type raftLayer struct{ m *Mux }

func (r *raftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-r.m.raft:
		return c, nil
	case <-r.m.closed:
		return nil, net.ErrClosed
	}
}

func (r *raftLayer) Close() error   { return r.m.Close() }
func (r *raftLayer) Addr() net.Addr { return r.m.advAddr }

func (r *raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(r.m.dialCtx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", string(address))
	if err != nil {
		return nil, err
	}
	tc, err := r.m.track(conn)
	if err != nil {
		return nil, err
	}
	// The protocol byte goes out under the same bound as the dial, and a
	// Close unblocks it like any other write.
	tc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := tc.Write([]byte{ProtoRaft}); err != nil {
		tc.Close()
		return nil, err
	}
	tc.SetWriteDeadline(time.Time{})
	return tc, nil
}

// track registers a dialed raft connection so Close can close it; after
// Close it closes the connection and fails.
func (m *Mux) track(c net.Conn) (net.Conn, error) {
	rc := &raftConn{Conn: c, m: m}
	m.connMu.Lock()
	defer m.connMu.Unlock()
	if m.raftConns == nil {
		c.Close()
		return nil, net.ErrClosed
	}
	m.raftConns[rc] = struct{}{}
	return rc, nil
}

// raftConn is a dialed raft connection that leaves the mux's set when
// closed. Deadlines and everything else are the TCP connection's own.
type raftConn struct {
	net.Conn
	m *Mux
}

func (c *raftConn) Close() error {
	c.m.connMu.Lock()
	delete(c.m.raftConns, c)
	c.m.connMu.Unlock()
	return c.Conn.Close()
}
