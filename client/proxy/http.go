package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The http ingress is an HTTP/1.1 proxy of its own rather than
// httputil.ReverseProxy over an http.Server: one goroutine per client
// connection reads a request, sends it on a pooled connection to the
// picked instance, and copies the answer back, with no goroutine handing
// work to another on the way. (ReverseProxy's transport passes every
// request through two goroutines per instance connection, and the server
// starts a third per request to watch for the client going away; on a
// busy machine those hand-offs, not the proxying, set the balancer's
// throughput and latency.)
const (
	// idleTimeout closes a client connection that sends no request, and
	// an instance connection not used, for this long.
	idleTimeout = 90 * time.Second
	// readHeaderTimeout bounds reading a request's headers.
	readHeaderTimeout = 10 * time.Second
	// maxHeaderBytes bounds a request's headers.
	maxHeaderBytes = 1 << 20
	// maxIdlePerInstance bounds the idle connections kept to one instance.
	maxIdlePerInstance = 128
	// maxDrain is how much of an unread request body is skipped to keep
	// the client's connection; beyond it the connection is closed.
	maxDrain   = 256 << 10
	bufferSize = 8 << 10
)

// clientConn is a connection from a client to an http ingress.
type clientConn struct {
	conn net.Conn
	lr   *io.LimitedReader // under br: bounds the headers
	br   *bufio.Reader
	bw   *bufio.Writer
	ip   string // the client's address, for X-Forwarded-For
	// xff and forwarded are the X-Forwarded-For and Forwarded values of
	// a request that has none, and forwardFields both as header fields:
	// made once per connection, not per request. Shared by its requests'
	// headers: never changed in place.
	xff, forwarded []string
	forwardFields  string
	// plain is the request being served when it is a plain one
	// (readPlainRequest), nil otherwise; it points to plainBuf.
	plain    *plainRequest
	plainBuf plainRequest
	idle     bool // waiting for a request (guarded by listener.connMu)
}

// serveHTTP accepts client connections until the listener closes.
func (p *Proxy) serveHTTP(l *listener) {
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
		cc := &clientConn{conn: conn, lr: &io.LimitedReader{R: conn}}
		cc.br = bufio.NewReaderSize(cc.lr, bufferSize)
		cc.bw = bufio.NewWriterSize(conn, bufferSize)
		if host, _, err := net.SplitHostPort(conn.RemoteAddr().String()); err == nil {
			cc.ip = host
			cc.xff = []string{host}
			cc.forwarded = []string{forwardedFor(host)}
			cc.forwardFields = "X-Forwarded-For: " + host + "\r\nForwarded: " + cc.forwarded[0] + "\r\n"
		}
		if !l.track(cc) {
			conn.Close()
			return
		}
		go p.serveConn(l, cc)
	}
}

// track adds a client connection; false once the ingress is closing.
func (l *listener) track(cc *clientConn) bool {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	if l.closing {
		return false
	}
	l.conns[cc] = struct{}{}
	return true
}

func (l *listener) untrack(cc *clientConn) {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	if _, ok := l.conns[cc]; !ok {
		return
	}
	delete(l.conns, cc)
	if l.closing && len(l.conns) == 0 {
		close(l.drained)
	}
}

// setIdle marks a connection as waiting for a request (with the idle
// timeout as its read deadline) or not; false means the ingress is closing
// and the connection should end. Under connMu, so that drain's deadline
// is not overwritten.
func (l *listener) setIdle(cc *clientConn, idle bool) bool {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	cc.idle = idle
	if idle {
		if l.closing {
			return false
		}
		_ = cc.conn.SetReadDeadline(time.Now().Add(idleTimeout))
	}
	return true
}

// drain closes the connections waiting for a request, lets the others
// finish their request, and closes whatever is left after timeout.
func (l *listener) drain(timeout time.Duration) {
	l.connMu.Lock()
	l.closing = true
	if len(l.conns) == 0 {
		close(l.drained)
	}
	for cc := range l.conns {
		if cc.idle {
			// Wakes the read it is blocked in; the connection then ends.
			_ = cc.conn.SetReadDeadline(time.Unix(1, 0))
		}
	}
	l.connMu.Unlock()
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-l.drained:
		case <-t.C:
			l.connMu.Lock()
			for cc := range l.conns {
				_ = cc.conn.Close()
			}
			l.connMu.Unlock()
		}
	}()
}

func (l *listener) isClosing() bool {
	l.connMu.Lock()
	defer l.connMu.Unlock()
	return l.closing
}

// serveConn serves one client connection's requests, one after the other.
func (p *Proxy) serveConn(l *listener, cc *clientConn) {
	defer l.untrack(cc)
	defer cc.conn.Close()
	for {
		if !l.setIdle(cc, true) {
			return
		}
		// What the reader holds is the start of this request's headers.
		cc.lr.N = maxHeaderBytes - int64(cc.br.Buffered())
		if _, err := cc.br.Peek(1); err != nil {
			return // the client went away, idled out, or the ingress closed
		}
		l.setIdle(cc, false)
		cc.plain = nil
		req, ok := cc.readPlainRequest()
		if ok {
			// Whole in the buffer: no read to bound. The idle deadline
			// left on the connection is reset before its next read.
			cc.plain = &cc.plainBuf
		} else {
			_ = cc.conn.SetReadDeadline(time.Now().Add(readHeaderTimeout))
			var err error
			req, err = http.ReadRequest(cc.br)
			cc.lr.N = 1<<63 - 1
			if err != nil {
				if !errors.Is(err, io.EOF) {
					writeError(cc.bw, http.StatusBadRequest, "malformed request: "+err.Error(), true)
				}
				return
			}
			_ = cc.conn.SetReadDeadline(time.Time{})
		}
		if req.ProtoAtLeast(1, 1) && req.Host == "" {
			writeError(cc.bw, http.StatusBadRequest, "missing Host header", true)
			return
		}
		if !p.forward(l, cc, req) {
			return
		}
	}
}

// forward sends one request to an instance and its answer to the client;
// it reports whether the client connection may serve another request.
func (p *Proxy) forward(l *listener, cc *clientConn, req *http.Request) bool {
	keep := !req.Close && !l.isClosing()
	var upgrade string
	if cc.plain == nil {
		upgrade = prepareRequest(req, cc) // a plain request's fields are rewritten as they are sent
	}
	if req.Body != http.NoBody {
		body := &requestBody{r: req.Body, cc: cc}
		if strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
			// Asked for once the body is actually needed, as a server would.
			req.Header.Del("Expect")
			body.expect = true
		}
		req.Body = body
	}
	backends := p.backends(l)
	var tried []string
	var lastErr error = errNoInstance
	for range p.cfg.Attempts * 2 { // stale pooled connections do not count as tries
		if len(tried) >= p.cfg.Attempts {
			break
		}
		addr, ok := l.bal.pick(backends, tried)
		if !ok {
			break
		}
		bc, err := p.pool.get(addr)
		if err != nil {
			// Nothing was sent: any request may go to another instance.
			l.bal.done(addr)
			tried = append(tried, addr)
			lastErr = err
			p.cfg.Logger.Debug("proxy: instance unreachable, trying another", "service", l.service, "backend", addr, "error", err)
			continue
		}
		resp, plain, err := bc.roundTrip(req, cc.plain)
		if err != nil {
			bc.close()
			l.bal.done(addr)
			lastErr = err
			var closed *errClosedIdle
			if errors.As(err, &closed) && retryable(req) {
				// The instance closed the idle connection as it was reused.
				continue
			}
			break
		}
		if resp == nil {
			keep = p.respondPlain(l, cc, req, plain, bc, keep)
		} else {
			keep = p.respond(l, cc, req, resp, bc, upgrade, keep)
		}
		l.bal.done(addr)
		return keep && drainBody(req.Body)
	}
	status := http.StatusBadGateway
	if errors.Is(lastErr, errNoInstance) {
		status = http.StatusServiceUnavailable
	}
	p.cfg.Logger.Warn("proxy: request failed", "service", l.service, "target", req.RequestURI, "error", lastErr)
	keep = keep && drainBody(req.Body)
	if err := writeError(cc.bw, status, "drover ingress: service "+l.service+": "+lastErr.Error(), !keep); err != nil {
		return false
	}
	return keep
}

// hopHeaders concern one connection, not the request: they are not passed on.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		delete(h, name)
	}
}

// prepareRequest makes a client's request the instance's: connection
// headers dropped (an upgrade and "TE: trailers" excepted), the client's
// address added to X-Forwarded-For and Forwarded. It returns the protocol
// the client asks to upgrade to, if any.
func prepareRequest(req *http.Request, cc *clientConn) (upgrade string) {
	h := req.Header
	if hasToken(h["Connection"], "upgrade") {
		upgrade = h.Get("Upgrade")
	}
	trailers := hasToken(h["Te"], "trailers")
	removeHopHeaders(h)
	if trailers {
		h["Te"] = []string{"trailers"}
	}
	if upgrade != "" {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{upgrade}
	}
	if cc.ip != "" {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 {
			h["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + cc.ip}
		} else {
			h["X-Forwarded-For"] = cc.xff
		}
		if prior := h.Get("Forwarded"); prior != "" {
			h["Forwarded"] = []string{prior + ", " + cc.forwarded[0]}
		} else {
			h["Forwarded"] = cc.forwarded
		}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = noUserAgent // not Go's own: the client sent none
	}
	return upgrade
}

// noUserAgent keeps Request.Write from adding Go's User-Agent.
var noUserAgent = []string{""}

// forwardedFor is the Forwarded element naming a client.
func forwardedFor(ip string) string {
	return "for=" + quoteForwarded(ip) + ";proto=http"
}

// writeRequest writes a request to an instance. A plain request
// (readPlainRequest) goes as the client sent it, but for its connection
// fields and with the client's address added. Another request without a
// body and with a plain target and Host is written here too, without the
// allocations of Request.Write and the sorting of its headers; anything
// else (a body to frame, a Host to clean, CONNECT, a target that is not a
// path) is left to Request.Write. All write the same request, but for the
// order and the case of the field names.
func writeRequest(w *bufio.Writer, req *http.Request, plain *plainRequest) error {
	if plain != nil {
		writePlainRequest(w, plain)
		if req.Close {
			w.WriteString("Connection: close\r\n") // as Request.Write does
		}
		_, err := w.WriteString("\r\n")
		return err
	}
	if req.Body != http.NoBody || req.Method == http.MethodConnect ||
		!strings.HasPrefix(req.RequestURI, "/") || !plainHost(req.Host) {
		return req.Write(w)
	}
	// The target as the client sent it (ReadRequest has checked it holds
	// no spaces or control bytes).
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(req.RequestURI)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(req.Host)
	w.WriteString("\r\n")
	if ua := req.Header.Get("User-Agent"); ua != "" {
		writeField(w, "User-Agent", ua)
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.WriteString("Content-Length: 0\r\n") // as Request.Write does: many servers want it
	}
	if req.Close {
		w.WriteString("Connection: close\r\n")
	}
	for name, values := range req.Header {
		switch name {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue // written above, or meaningless without a body
		}
		for _, v := range values {
			writeField(w, name, v)
		}
	}
	_, err := w.WriteString("\r\n")
	return err
}

// plainHost tells a Host that needs no cleaning before it is sent on:
// ASCII letters, digits and the punctuation of names, IPv4 and bracketed
// IPv6 addresses and ports (no IPv6 zone, nothing to punycode).
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == '_', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}

// writeHeader writes header fields, but for those named in skip; in the
// map's order, which HTTP leaves free.
func writeHeader(w *bufio.Writer, h http.Header, skip string) {
	for name, values := range h {
		if name == skip {
			continue
		}
		for _, v := range values {
			writeField(w, name, v)
		}
	}
}

// writeField writes one header field. Names were checked when the message
// was read; a value cannot hold a line break either (one that came bare in
// a field is made a space, as Header.Write does).
func writeField(w *bufio.Writer, name, value string) {
	if strings.ContainsAny(value, "\r\n") {
		value = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, value)
	}
	w.WriteString(name)
	w.WriteString(": ")
	w.WriteString(value)
	w.WriteString("\r\n")
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// quoteForwarded writes an address as RFC 7239 wants it: IPv6 quoted and bracketed.
func quoteForwarded(ip string) string {
	if net.ParseIP(ip).To4() == nil {
		return `"[` + ip + `]"`
	}
	return ip
}

// retryable requests may be sent again after they reached an instance's
// connection: no body, and a method that means the same when repeated.
func retryable(req *http.Request) bool {
	if req.Body != http.NoBody {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// respond copies an instance's answer to the client and gives the
// instance connection back to the pool when it can be reused; it reports
// whether the client connection may serve another request.
func (p *Proxy) respond(l *listener, cc *clientConn, req *http.Request, resp *http.Response, bc *backendConn, upgrade string, keep bool) bool {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return p.switchProtocols(l, cc, resp, bc, upgrade)
	}
	w := cc.bw
	h := resp.Header
	removeHopHeaders(h)
	bodyless := req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified
	chunked := !bodyless && resp.ContentLength < 0 && req.ProtoAtLeast(1, 1)
	if !bodyless && resp.ContentLength < 0 && !chunked {
		keep = false // an HTTP/1.0 client: the end of the body is the end of the connection
	}
	w.WriteString("HTTP/1.1 ")
	w.WriteString(statusLine(resp))
	w.WriteString("\r\n")
	if chunked {
		w.WriteString("Transfer-Encoding: chunked\r\n")
		if len(resp.Trailer) > 0 {
			names := make([]string, 0, len(resp.Trailer))
			for name := range resp.Trailer {
				names = append(names, name)
			}
			w.WriteString("Trailer: " + strings.Join(names, ", ") + "\r\n")
		}
	}
	// The length of a body this ingress sends is its own to state; a
	// bodyless answer keeps the instance's (a HEAD's is the GET's).
	skip := ""
	if !bodyless && resp.ContentLength >= 0 {
		skip = "Content-Length"
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), resp.ContentLength, 10))
		w.WriteString("\r\n")
	}
	if !keep {
		w.WriteString("Connection: close\r\n")
	} else if !req.ProtoAtLeast(1, 1) {
		w.WriteString("Connection: keep-alive\r\n") // what an HTTP/1.0 client that asked for it looks for
	}
	writeHeader(w, h, skip)
	w.WriteString("\r\n")

	// Streams (events, or a body of unknown length) go out as they come.
	stream := resp.ContentLength < 0 || strings.HasPrefix(h.Get("Content-Type"), "text/event-stream")
	var err error
	switch {
	case bodyless:
		err = w.Flush()
	case chunked:
		cw := httputil.NewChunkedWriter(w)
		if err = copyBody(w, cw, resp.Body, true); err == nil {
			err = cw.Close()
		}
		if err == nil {
			for name, values := range resp.Trailer {
				for _, v := range values {
					w.WriteString(name + ": " + v + "\r\n")
				}
			}
			w.WriteString("\r\n")
			err = w.Flush()
		}
	default:
		if err = copyBody(w, w, resp.Body, stream); err == nil {
			err = w.Flush()
		}
	}
	if err != nil {
		// The instance or the client failed mid-answer: both connections
		// are in an unknown state.
		bc.close()
		p.cfg.Logger.Debug("proxy: answer cut short", "service", l.service, "backend", bc.addr, "error", err)
		return false
	}
	if resp.Close {
		bc.close()
	} else {
		p.pool.put(bc)
	}
	return keep
}

// respondPlain is respond for a plain answer: its head as it came, but
// for the connection fields, then its body.
func (p *Proxy) respondPlain(l *listener, cc *clientConn, req *http.Request, a plainAnswer, bc *backendConn, keep bool) bool {
	w := cc.bw
	writePlainHead(w, a)
	if !keep {
		w.WriteString("Connection: close\r\n")
	} else if !req.ProtoAtLeast(1, 1) {
		w.WriteString("Connection: keep-alive\r\n")
	}
	w.WriteString("\r\n")
	_, _ = bc.br.Discard(len(a.head) + 2) // the head was peeked: it is in the buffer
	err := copyLength(w, bc.br, a.length)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		bc.close()
		p.cfg.Logger.Debug("proxy: answer cut short", "service", l.service, "backend", bc.addr, "error", err)
		return false
	}
	if a.close {
		bc.close()
	} else {
		p.pool.put(bc)
	}
	return keep
}

// copyLength copies n bytes from br to w through br's buffer.
func copyLength(w *bufio.Writer, br *bufio.Reader, n int64) error {
	for n > 0 {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		b, _ := br.Peek(int(min(n, int64(br.Buffered()))))
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, _ = br.Discard(len(b))
		n -= int64(len(b))
	}
	return nil
}

// statusLine is the code and reason of an answer ("200 OK").
func statusLine(resp *http.Response) string {
	if strings.Contains(resp.Status, " ") {
		return resp.Status
	}
	return strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
}

// copyBody copies an answer's body into dst, which writes to w; with
// flush every piece leaves at once.
func copyBody(w *bufio.Writer, dst io.Writer, body io.Reader, flush bool) error {
	if !flush {
		_, err := io.Copy(dst, body)
		return err
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	for {
		n, err := body.Read(*buf)
		if n > 0 {
			if _, werr := dst.Write((*buf)[:n]); werr != nil {
				return werr
			}
			if werr := w.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// switchProtocols relays an upgraded connection (a WebSocket, say) both
// ways until both sides close. It is no longer a request in flight: the
// ingress's draining does not wait for it.
func (p *Proxy) switchProtocols(l *listener, cc *clientConn, resp *http.Response, bc *backendConn, upgrade string) bool {
	defer bc.close()
	got := resp.Header.Get("Upgrade")
	if upgrade == "" || !strings.EqualFold(got, upgrade) {
		p.cfg.Logger.Warn("proxy: instance switched to a protocol the client did not ask for", "service", l.service, "asked", upgrade, "got", got)
		_ = writeError(cc.bw, http.StatusBadGateway, "drover ingress: service "+l.service+": unexpected protocol switch", true)
		return false
	}
	removeHopHeaders(resp.Header)
	resp.Header["Connection"] = []string{"Upgrade"}
	resp.Header["Upgrade"] = []string{got}
	w := cc.bw
	w.WriteString("HTTP/1.1 " + statusLine(resp) + "\r\n")
	_ = resp.Header.Write(w)
	w.WriteString("\r\n")
	if err := w.Flush(); err != nil {
		return false
	}
	l.untrack(cc)
	var wg sync.WaitGroup
	wg.Go(func() { relay(bc.conn, cc.br, cc.conn) })
	relay(cc.conn, bc.br, bc.conn)
	wg.Wait()
	return false
}

// relay copies what src's reader holds and then src itself to dst, and
// half-closes dst at the end.
func relay(dst net.Conn, buffered *bufio.Reader, src net.Conn) {
	if n := buffered.Buffered(); n > 0 {
		b, _ := buffered.Peek(n)
		if _, err := dst.Write(b); err != nil {
			_ = dst.Close()
			return
		}
	}
	pipe(dst, src)
}

// requestBody is a client's request body on its way to an instance. It
// outlives the request's writing (which closes it), so that what is left
// of it can be skipped before the client's next request; with expect, the
// client is told to send it when it is first read.
type requestBody struct {
	r      io.ReadCloser
	cc     *clientConn
	expect bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.expect {
		b.expect = false
		b.cc.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := b.cc.bw.Flush(); err != nil {
			return 0, err
		}
	}
	return b.r.Read(p)
}

func (b *requestBody) Close() error { return nil }

// drainBody skips what is left of a request body so that the next request
// can be read; false when too much is left, or the client still waits to
// be asked for it (Expect: 100-continue).
func drainBody(body io.ReadCloser) bool {
	b, ok := body.(*requestBody)
	if !ok {
		return true // http.NoBody
	}
	if b.expect {
		return false
	}
	n, err := io.CopyN(io.Discard, b.r, maxDrain+1)
	return err == io.EOF && n <= maxDrain
}

// writeError answers a request with an error of the ingress's own.
func writeError(w *bufio.Writer, status int, msg string, closeConn bool) error {
	w.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	w.WriteString("Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n")
	if closeConn {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("Content-Length: " + strconv.Itoa(len(msg)+1) + "\r\n\r\n")
	w.WriteString(msg + "\n")
	return w.Flush()
}

// errNoInstance is returned when no healthy instance is left to try.
var errNoInstance = errors.New("no healthy instance")
