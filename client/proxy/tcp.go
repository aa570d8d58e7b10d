package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// serveTCP accepts connections until the listener closes. Connections
// already accepted are not waited for: they finish on their own, so that
// closing an ingress never blocks on a long-lived connection.
func (p *Proxy) serveTCP(l *listener) {
	var backoff time.Duration
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if backoff, err = p.acceptFailed(l, backoff, err); err != nil {
				return
			}
			continue
		}
		backoff = 0
		go p.forwardTCP(l, conn)
	}
}

// acceptFailed handles an error of Accept: a closed listener ends the
// loop (the error is returned); anything else (out of file descriptors,
// say) is logged and waited out, longer each time up to a second, so the
// ingress keeps serving once it passes.
func (p *Proxy) acceptFailed(l *listener, backoff time.Duration, err error) (time.Duration, error) {
	if errors.Is(err, net.ErrClosed) {
		return 0, err
	}
	backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
	p.cfg.Logger.Error("proxy: accept failed, retrying", "service", l.service, "error", err, "retry_in", backoff)
	time.Sleep(backoff)
	return backoff, nil
}

// forwardTCP connects a client to an instance, trying another instance
// when one cannot be reached, and copies both ways until both sides close.
func (p *Proxy) forwardTCP(l *listener, client net.Conn) {
	defer client.Close()
	backend, addr, err := p.dialBackend(l)
	if err != nil {
		p.cfg.Logger.Warn("proxy: no instance for a connection", "service", l.service, "client", client.RemoteAddr().String(), "error", err)
		return
	}
	defer l.bal.done(addr)
	defer backend.Close()
	if l.ingress.ProxyProtocol {
		if _, err := io.WriteString(backend, proxyHeader(client.RemoteAddr(), client.LocalAddr())); err != nil {
			p.cfg.Logger.Warn("proxy: writing the PROXY header", "service", l.service, "backend", addr, "error", err)
			return
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(backend, client) }()
	go func() { defer wg.Done(); pipe(client, backend) }()
	wg.Wait()
}

// dialBackend connects to a healthy instance, trying up to Attempts
// different ones; the instance it returns counts as in flight.
func (p *Proxy) dialBackend(l *listener) (net.Conn, string, error) {
	backends := p.backends(l)
	var tried []string
	lastErr := errNoInstance
	for range p.cfg.Attempts {
		addr, ok := l.bal.pick(backends, tried)
		if !ok {
			break
		}
		conn, err := net.DialTimeout("tcp", addr, p.cfg.DialTimeout)
		if err == nil {
			return conn, addr, nil
		}
		l.bal.done(addr)
		tried = append(tried, addr)
		lastErr = err
		p.cfg.Logger.Debug("proxy: instance unreachable, trying another", "service", l.service, "backend", addr, "error", err)
	}
	return nil, "", lastErr
}

// pipe copies src to dst, then half-closes dst so the other side sees the
// end of the stream while the reverse direction goes on.
//
// It reads and writes through a pooled buffer taken only once src has
// something to read, rather than io.Copy, which between TCP connections
// on Linux splices through a pipe: for the small messages of a request
// and its answer, a read and a write cost less CPU than two splices (the
// balancer's CPU time per request in `go run ./bench/discovery -only
// balancer -modes tcp`), and an idle connection holds neither a buffer
// nor a pipe's two descriptors.
func pipe(dst, src net.Conn) {
	copyWhenReadable(dst, src)
	if c, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = c.CloseWrite()
	} else {
		_ = dst.Close()
	}
}

var pipeBuffers = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// copyWhenReadable copies src to dst until src ends or either fails.
func copyWhenReadable(dst, src net.Conn) {
	w := newReadWaiter(src)
	if w == nil {
		_, _ = io.Copy(dst, src) // no way to wait without a buffer here
		return
	}
	for {
		w.wait()
		buf := pipeBuffers.Get().(*[]byte)
		n, err := src.Read(*buf)
		if n > 0 {
			if _, werr := dst.Write((*buf)[:n]); werr != nil {
				err = werr
			}
		}
		pipeBuffers.Put(buf)
		if err != nil {
			return
		}
	}
}

// proxyHeader is a PROXY protocol v1 header: the client's address and the
// address it connected to, so the instance sees who really called.
func proxyHeader(client, local net.Addr) string {
	src, sok := client.(*net.TCPAddr)
	dst, dok := local.(*net.TCPAddr)
	if !sok || !dok {
		return "PROXY UNKNOWN\r\n"
	}
	family := "TCP4"
	if src.IP.To4() == nil || dst.IP.To4() == nil {
		family = "TCP6"
	}
	return fmt.Sprintf("PROXY %s %s %s %d %d\r\n", family, src.IP, dst.IP, src.Port, dst.Port)
}
