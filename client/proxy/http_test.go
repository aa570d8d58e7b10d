package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// rawRequest sends raw bytes on a new connection to addr and reads one answer.
func rawRequest(t *testing.T, addr, raw string, method string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func httpProxyTo(t *testing.T, h http.Handler) (string, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cat := &fakeCatalog{}
	cat.set(srv.Listener.Addr().String())
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})
	return addr, srv
}

// Bodies of every framing pass both ways, and the client's connection
// serves the next request after each of them.
func TestHTTPBodiesAndKeepAlive(t *testing.T) {
	addr, _ := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/stream": // no length: chunked to the client, with a trailer
			w.Header().Set("Trailer", "X-Sum")
			w.Write([]byte("part1,"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part2"))
			w.Header().Set("X-Sum", "2")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			fmt.Fprintf(w, "%s %s %d %q host=%s te=%q conn=%q", r.Method, r.URL.RequestURI(), r.ContentLength, body, r.Host, r.Header.Get("Te"), r.Header.Get("Connection"))
		}
	}))
	var conns atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		conns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	do := func(method, path string, body io.Reader, length int64) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+addr+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		req.Host = "api.example"
		req.Header.Set("Te", "trailers")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	if _, got := do("GET", "/a?x=1%2F2", nil, 0); got != `GET /a?x=1%2F2 0 "" host=api.example te="trailers" conn=""` {
		t.Fatalf("GET: %s", got)
	}
	if _, got := do("POST", "/p", strings.NewReader("hello"), 5); got != `POST /p 5 "hello" host=api.example te="trailers" conn=""` {
		t.Fatalf("POST with a length: %s", got)
	}
	// An unknown length is sent chunked; the instance reads it whole.
	if _, got := do("PUT", "/c", io.MultiReader(strings.NewReader("chun"), strings.NewReader("ked")), -1); got != `PUT /c -1 "chunked" host=api.example te="trailers" conn=""` {
		t.Fatalf("chunked PUT: %s", got)
	}
	resp, got := do("GET", "/stream", nil, 0)
	if got != "part1,part2" || resp.Trailer.Get("X-Sum") != "2" || resp.ContentLength != -1 {
		t.Fatalf("stream: %q, trailer %v, length %d", got, resp.Trailer, resp.ContentLength)
	}
	if resp, _ := do("GET", "/empty", nil, 0); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("empty: %s", resp.Status)
	}
	if resp, got := do("HEAD", "/h", nil, 0); resp.StatusCode != http.StatusOK || got != "" {
		t.Fatalf("HEAD: %s %q", resp.Status, got)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("the client needed %d connections for its requests, want 1 (keep-alive)", n)
	}
}

// A client that expects 100-continue is asked for its body, which reaches
// the instance.
func TestHTTPExpectContinue(t *testing.T) {
	addr, _ := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s", body)
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("before the body: %q, %v", line, err)
	}
	if blank, _ := r.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q", blank)
	}
	io.WriteString(conn, "body")
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if string(got) != "body" {
		t.Fatalf("the instance got %q", got)
	}
}

// An HTTP/1.0 client gets a body of unknown length up to the connection's end.
func TestHTTP10Client(t *testing.T) {
	addr, _ := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("streamed"))
		w.(http.Flusher).Flush()
	}))
	resp, body := rawRequest(t, addr, "GET / HTTP/1.0\r\nHost: x\r\n\r\n", "GET")
	if string(body) != "streamed" || !resp.Close {
		t.Fatalf("%q, close %v", body, resp.Close)
	}
}

// An HTTP/1.0 client that asks for keep-alive is told it got it.
func TestHTTP10KeepAlive(t *testing.T) {
	addr, _ := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("known length"))
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	for i := range 2 {
		io.WriteString(conn, "GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "known length" || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("request %d: %q, Connection %q", i, body, resp.Header.Get("Connection"))
		}
	}
}

// A request the ingress cannot parse gets 400, not a silent close.
func TestHTTPMalformedRequest(t *testing.T) {
	addr, _ := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	resp, body := rawRequest(t, addr, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", "GET")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "malformed request") {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	resp, _ = rawRequest(t, addr, "GET / HTTP/1.1\r\n\r\n", "GET")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("without Host: %s", resp.Status)
	}
}

// Connection headers stay on their hop; an instance that closes its idle
// connections (as an instance that restarts does) costs a GET nothing.
func TestHTTPHopHeadersAndStaleConnections(t *testing.T) {
	var seen atomic.Value
	addr, srv := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(fmt.Sprintf("conn=%q keep=%q custom=%q", r.Header.Get("Connection"), r.Header.Get("Keep-Alive"), r.Header.Get("X-Hop")))
		w.Header().Set("Connection", "X-Secret")
		w.Header().Set("X-Secret", "hop")
		w.Write([]byte("ok"))
	}))
	resp, _ := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: 5\r\nX-Hop: 1\r\n\r\n", "GET")
	if got := seen.Load().(string); got != `conn="" keep="" custom=""` {
		t.Fatalf("the instance saw %s", got)
	}
	if resp.Header.Get("X-Secret") != "" {
		t.Fatal("the instance's connection header reached the client")
	}
	for i := range 3 {
		srv.CloseClientConnections() // the ingress's pooled connection dies
		resp, body := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("after the instance closed its connections (%d): %s %q", i, resp.Status, body)
		}
	}
}

// An upgraded connection (a WebSocket, say) is relayed both ways.
func TestHTTPUpgrade(t *testing.T) {
	addr, _ := httpProxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" || !strings.EqualFold(r.Header.Get("Connection"), "upgrade") {
			http.Error(w, "not an upgrade: "+r.Header.Get("Connection"), http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString("echo: " + line)
		rw.Flush()
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello\n")
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %s", resp.Status, b)
	}
	if line, err := r.ReadString('\n'); err != nil || line != "echo: hello\n" {
		t.Fatalf("relayed: %q, %v", line, err)
	}
}

// Removing an ingress lets the request in flight finish, closes idle
// client connections, and frees the port at once.
func TestHTTPDrainsOnClose(t *testing.T) {
	a := newBackend(t, "a")
	cat := &fakeCatalog{}
	cat.set(a.addr())
	p, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- resp.Status + " " + string(b)
	}()
	select {
	case <-a.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request did not arrive")
	}
	if err := p.Sync(nil); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatal("the removed ingress still accepts connections")
	}
	// The idle connection is closed by the ingress.
	_ = idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection: read %d, %v; want EOF", n, err)
	}
	close(a.slow)
	if got := <-slow; !strings.HasPrefix(got, "200 OK a|") {
		t.Fatalf("the request in flight: %s", got)
	}
}

// A request with a body goes to another instance when the first refuses
// the connection: nothing was sent yet.
func TestHTTPPostRetriedWhenNothingWasSent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(bytes.ToUpper(b))
	}))
	defer srv.Close()
	cat := &fakeCatalog{}
	cat.set(closedAddr(t), srv.Listener.Addr().String())
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})
	for i := range 4 {
		resp, err := http.Post("http://"+addr+"/", "text/plain", strings.NewReader("data"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "DATA" {
			t.Fatalf("request %d: %s %q", i, resp.Status, b)
		}
	}
}
