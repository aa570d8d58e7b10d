package rpc

import (
	"encoding/binary"
	"net"
	"sync"
)

// frameConn is the connection under a yamux session. yamux writes a data
// frame as two writes, its 12-byte header and then its payload, so every
// message cost two system calls on each side. frameConn holds such a
// header back and sends it with the payload in one (vectored) write. The
// bytes on the wire, and their order, are the same; only a header whose
// payload never comes (yamux gave up on the frame) waits for the next
// write, as the peer would have waited for that payload anyway.
type frameConn struct {
	net.Conn

	mu     sync.Mutex // yamux writes from one goroutine; this is cheap insurance
	header [yamuxHeaderSize]byte
	held   bool
	vec    [2][]byte
}

// The parts of yamux's frame header (github.com/hashicorp/yamux const.go)
// frameConn reads: version, type, flags, stream ID, length.
const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

func newFrameConn(c net.Conn) *frameConn { return &frameConn{Conn: c} }

func (c *frameConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held {
		if len(p) == yamuxHeaderSize && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:]) > 0 {
			copy(c.header[:], p)
			c.held = true
			return len(p), nil
		}
		return c.Conn.Write(p)
	}
	c.held = false
	c.vec = [2][]byte{c.header[:], p}
	bufs := net.Buffers(c.vec[:])
	n, err := bufs.WriteTo(c.Conn)
	// The header was reported written already: count p's bytes only.
	return int(max(n-yamuxHeaderSize, 0)), err
}
