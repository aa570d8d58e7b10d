package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// peekAfter is how long a connection must have been idle before it is
// checked for having been closed by the instance.
const peekAfter = 500 * time.Millisecond

// backendPool keeps the http ingress's idle connections to instances, per
// instance address, most recently used first out.
type backendPool struct {
	dialer *net.Dialer

	mu        sync.Mutex
	idle      map[string][]*backendConn
	lastSweep time.Time
	closed    bool
}

func newBackendPool(dialer *net.Dialer) *backendPool {
	return &backendPool{dialer: dialer, idle: map[string][]*backendConn{}, lastSweep: time.Now()}
}

// backendConn is a connection to an instance.
type backendConn struct {
	addr   string
	conn   net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool      // it served a request before this one
	since  time.Time // idle since
	// received counts the bytes read from the instance, so that a failed
	// request can tell whether any answer came.
	received int64
}

// get returns an idle connection to addr that is still open, or a new one.
func (p *backendPool) get(addr string) (*backendConn, error) {
	for {
		p.mu.Lock()
		conns := p.idle[addr]
		if len(conns) == 0 {
			p.mu.Unlock()
			break
		}
		bc := conns[len(conns)-1]
		conns[len(conns)-1] = nil
		p.idle[addr] = conns[:len(conns)-1]
		p.mu.Unlock()
		idle := time.Since(bc.since)
		// A connection idle for a moment only is taken as is: instances
		// close idle connections after seconds, and the peek is a system
		// call on every request of a busy ingress. A GET that meets a
		// closed one anyway is retried (forward).
		if idle < idleTimeout && bc.br.Buffered() == 0 && (idle < peekAfter || stillOpen(bc.conn)) {
			bc.reused = true
			return bc, nil
		}
		bc.close()
	}
	conn, err := p.dialer.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	bc := &backendConn{addr: addr, conn: conn, bw: bufio.NewWriterSize(conn, bufferSize)}
	bc.br = bufio.NewReaderSize(countingReader{conn, &bc.received}, bufferSize)
	return bc, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// put keeps a connection whose last answer was read whole. Now and then it
// also closes connections idle for too long (instances that left the
// catalog are not asked for again).
func (p *backendPool) put(bc *backendConn) {
	now := time.Now()
	bc.since = now
	p.mu.Lock()
	var stale []*backendConn
	if now.Sub(p.lastSweep) > idleTimeout/3 {
		p.lastSweep = now
		for addr, conns := range p.idle {
			kept := conns[:0]
			for _, c := range conns {
				if now.Sub(c.since) < idleTimeout {
					kept = append(kept, c)
				} else {
					stale = append(stale, c)
				}
			}
			clear(conns[len(kept):])
			if len(kept) == 0 {
				delete(p.idle, addr)
			} else {
				p.idle[addr] = kept
			}
		}
	}
	if p.closed || len(p.idle[bc.addr]) >= maxIdlePerInstance {
		stale = append(stale, bc)
	} else {
		p.idle[bc.addr] = append(p.idle[bc.addr], bc)
	}
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

// close closes every idle connection; connections in use close when
// their answer is done.
func (p *backendPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = map[string][]*backendConn{}
	p.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			c.close()
		}
	}
}

// roundTrip sends a request (a plain one as plain says, when not nil)
// and reads the head of its answer; the body
// is read from the connection as the caller copies it. A plain answer
// (readPlainAnswer) comes back as such, with a nil *http.Response;
// informational answers (1xx but 101) are skipped.
// A connection that the instance had closed before the request gets an
// error of type errClosedIdle.
func (bc *backendConn) roundTrip(req *http.Request, plain *plainRequest) (*http.Response, plainAnswer, error) {
	before := bc.received
	closed := func(err error) error {
		if bc.reused && bc.received == before && closedConn(err) {
			return &errClosedIdle{err}
		}
		return err
	}
	if err := writeRequest(bc.bw, req, plain); err != nil {
		return nil, plainAnswer{}, closed(err)
	}
	if err := bc.bw.Flush(); err != nil {
		return nil, plainAnswer{}, closed(err)
	}
	if _, err := bc.br.Peek(1); err != nil {
		return nil, plainAnswer{}, closed(err)
	}
	if a, ok := readPlainAnswer(bc.br, req); ok {
		return nil, a, nil
	}
	for {
		resp, err := http.ReadResponse(bc.br, req)
		if err != nil {
			return nil, plainAnswer{}, closed(err)
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, plainAnswer{}, nil
		}
	}
}

func (bc *backendConn) close() { _ = bc.conn.Close() }

// errClosedIdle is the error of a request sent on a kept-alive connection
// that the instance had closed: nothing came back.
type errClosedIdle struct{ err error }

func (e *errClosedIdle) Error() string { return "connection closed by the instance: " + e.err.Error() }
func (e *errClosedIdle) Unwrap() error { return e.err }

// closedConn tells the errors of a connection the other side closed.
func closedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
