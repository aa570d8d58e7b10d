package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
)

// httpHandler forwards each request to an instance: the director keeps the
// request as the client sent it (Host included) and adds the client's
// address to X-Forwarded-For and Forwarded; the transport picks the instance.
func (p *Proxy) httpHandler(l *listener) http.Handler {
	return &httputil.ReverseProxy{
		Director: func(req *http.Request) {
			req.URL.Scheme = "http"
			req.URL.Host = l.service // replaced by the instance's address in RoundTrip
			if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
				forwarded := "for=" + quoteForwarded(host) + ";proto=http"
				if prior := req.Header.Get("Forwarded"); prior != "" {
					forwarded = prior + ", " + forwarded
				}
				req.Header.Set("Forwarded", forwarded)
			}
			// ReverseProxy appends the client's address to X-Forwarded-For.
		},
		Transport:  &balancedTransport{proxy: p, listener: l},
		BufferPool: copyBuffers,
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			status := http.StatusBadGateway
			if errors.Is(err, errNoInstance) {
				status = http.StatusServiceUnavailable
			}
			p.cfg.Logger.Warn("proxy: request failed", "service", l.service, "path", req.URL.Path, "error", err)
			http.Error(w, "drover ingress: service "+l.service+": "+err.Error(), status)
		},
	}
}

// copyBuffers spares each proxied response a fresh 32 KiB copy buffer.
var copyBuffers = &bufferPool{pool: sync.Pool{New: func() any { return make([]byte, 32<<10) }}}

type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte  { return b.pool.Get().([]byte) }
func (b *bufferPool) Put(p []byte) { b.pool.Put(p) }

// quoteForwarded writes an address as RFC 7239 wants it: IPv6 quoted and bracketed.
func quoteForwarded(ip string) string {
	if net.ParseIP(ip).To4() == nil {
		return `"[` + ip + `]"`
	}
	return ip
}

// balancedTransport sends a request to a picked instance and, when no
// connection could be made, to another one: nothing was sent then, so any
// request without a body, or whose body can be replayed, may be retried.
type balancedTransport struct {
	proxy    *Proxy
	listener *listener
}

func (t *balancedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p, l := t.proxy, t.listener
	backends := p.backends(l)
	tried := map[string]bool{}
	lastErr := errNoInstance
	for attempt := range p.cfg.Attempts {
		addr, ok := l.bal.pick(backends, tried)
		if !ok {
			break
		}
		out := req
		if attempt > 0 {
			if !replayable(req) {
				l.bal.done(addr)
				break
			}
			out = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					l.bal.done(addr)
					return nil, err
				}
				out.Body = body
			}
		}
		out.URL.Host = addr
		resp, err := p.transport.RoundTrip(out)
		if err == nil {
			resp.Body = countBody(resp.Body, func() { l.bal.done(addr) })
			return resp, nil
		}
		l.bal.done(addr)
		tried[addr] = true
		lastErr = err
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			return nil, err // the request may have reached the instance: not retried
		}
		p.cfg.Logger.Debug("proxy: instance unreachable, trying another", "service", l.service, "backend", addr, "error", err)
	}
	return nil, lastErr
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// countBody ends the request's in-flight count when the response body is
// closed. An upgraded connection (101) keeps its writability, which
// ReverseProxy needs to relay it.
func countBody(body io.ReadCloser, done func()) io.ReadCloser {
	c := &countedBody{ReadCloser: body, done: done}
	if rw, ok := body.(io.ReadWriteCloser); ok {
		return &countedUpgrade{countedBody: c, w: rw}
	}
	return c
}

type countedBody struct {
	io.ReadCloser
	done func()
	once sync.Once
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

type countedUpgrade struct {
	*countedBody
	w io.Writer
}

func (u *countedUpgrade) Write(p []byte) (int, error) { return u.w.Write(p) }
