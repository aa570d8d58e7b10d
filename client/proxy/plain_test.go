package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

// Only answers whose framing is certain take the plain path; the rest go
// to http.ReadResponse.
func TestReadPlainAnswer(t *testing.T) {
	get := &http.Request{Method: "GET"}
	cases := []struct {
		name, raw string
		req       *http.Request
		plain     bool
		length    int64
		close     bool
		hop       bool
	}{
		{name: "plain", raw: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", plain: true, length: 2},
		{name: "empty body", raw: "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", plain: true, length: 0},
		{name: "closes", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", plain: true, length: 1, close: true, hop: true},
		{name: "keep-alive fields", raw: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\nx", plain: true, length: 1, hop: true},
		{name: "colon in a value", raw: "HTTP/1.1 200 OK\r\nLocation: http://a:1/\r\nContent-Length:  3 \r\n\r\nabc", plain: true, length: 3},
		{name: "HEAD", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", req: &http.Request{Method: "HEAD"}},
		{name: "no length", raw: "HTTP/1.1 200 OK\r\n\r\nabc"},
		{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "length and chunked", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "two lengths", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"},
		{name: "signed length", raw: "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc"},
		{name: "huge length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n"},
		{name: "HTTP/1.0", raw: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{name: "no reason", raw: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"},
		{name: "informational", raw: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{name: "no content", raw: "HTTP/1.1 204 No Content\r\n\r\n"},
		{name: "not modified", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"},
		{name: "switching", raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"},
		{name: "connection names a field", raw: "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: 1\r\nContent-Length: 0\r\n\r\n"},
		{name: "folded", raw: "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n"},
		{name: "bare LF", raw: "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"},
		{name: "bare CR in a value", raw: "HTTP/1.1 200 OK\r\nX-A: 1\r2\r\nContent-Length: 0\r\n\r\n"},
		{name: "space before colon", raw: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"},
		{name: "event stream", raw: "HTTP/1.1 200 OK\r\nContent-Type: Text/Event-Stream\r\nContent-Length: 0\r\n\r\n"},
		{name: "head not all here", raw: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			if req == nil {
				req = get
			}
			br := bufio.NewReader(strings.NewReader(c.raw))
			_, _ = br.Peek(1)
			a, ok := readPlainAnswer(br, req)
			if ok != c.plain {
				t.Fatalf("plain = %v, want %v", ok, c.plain)
			}
			if br.Buffered() != len(c.raw) {
				t.Fatal("the look consumed the answer")
			}
			if !ok {
				return
			}
			if a.length != c.length || a.close != c.close || a.hop != c.hop {
				t.Fatalf("length %d close %v hop %v, want %d %v %v", a.length, a.close, a.hop, c.length, c.close, c.hop)
			}
			if !bytes.HasPrefix([]byte(c.raw), a.head) || !strings.HasPrefix(c.raw[len(a.head):], "\r\n") {
				t.Fatalf("head %q", a.head)
			}
		})
	}
}

// A plain answer reaches the client as the instance sent it, without the
// fields of the instance's connection; one that closes its connection is
// not pooled.
func TestHTTPPlainAnswerRelayed(t *testing.T) {
	answers := []string{
		"HTTP/1.1 201 Created\r\nX-Custom: a:b\r\nKeep-Alive: timeout=5\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	}
	conns := make(chan int, 10)
	backend := serveLoopback(t, func(conn net.Conn, n int) {
		conns <- n
		first := 0
		if n > 1 {
			first = 2 // the second connection serves what is left
		}
		br := bufio.NewReader(conn)
		for i := first; i < len(answers); i++ {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			_, _ = io.WriteString(conn, answers[i])
			if strings.Contains(answers[i], "Connection: close") {
				return
			}
		}
	})
	client, br := dialHTTPProxy(t, backend)
	for i, want := range []struct {
		status int
		body   string
	}{{201, "hello"}, {200, "bye"}, {200, "ok"}} {
		if _, err := io.WriteString(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want.status || string(body) != want.body || resp.Close {
			t.Fatalf("answer %d: %s %q close=%v", i, resp.Status, body, resp.Close)
		}
		if i == 0 && (resp.Header.Get("X-Custom") != "a:b" || resp.Header.Get("Keep-Alive") != "") {
			t.Fatalf("answer 0's fields: %v", resp.Header)
		}
	}
	if n := len(conns); n != 2 {
		t.Fatalf("the ingress opened %d connections to the instance, want 2 (one closed after its answer)", n)
	}
}

// Only requests whose meaning is certain take the plain path; the rest go
// to http.ReadRequest.
func TestReadPlainRequest(t *testing.T) {
	cases := []struct {
		name, raw string
		plain     bool
		method    string
		target    string
		host      string
		close     bool
		hop       bool
	}{
		{name: "GET", raw: "GET /a?b=c%2F HTTP/1.1\r\nHost: api.example:80\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n", plain: true, method: "GET", target: "/a?b=c%2F", host: "api.example:80"},
		{name: "HEAD", raw: "HEAD / HTTP/1.1\r\nhost: a\r\n\r\n", plain: true, method: "HEAD", target: "/", host: "a"},
		{name: "host in the target", raw: "GET /a HTTP/1.1\r\nHost: a\r\n\r\n", plain: true, method: "GET", target: "/a", host: "a"},
		{name: "close", raw: "GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\r\n", plain: true, method: "GET", target: "/", host: "a", close: true, hop: true},
		{name: "keep-alive", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nKeep-Alive: 300\r\n\r\n", plain: true, method: "GET", target: "/", host: "a", hop: true},
		{name: "pipelined", raw: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", plain: true, method: "GET", target: "/1", host: "a"},
		{name: "POST", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"},
		{name: "lower-case method", raw: "get / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "HTTP/1.0", raw: "GET / HTTP/1.0\r\nHost: a\r\n\r\n"},
		{name: "absolute target", raw: "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "asterisk", raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "bad escape", raw: "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "cut escape", raw: "GET /%2 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "control byte", raw: "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "two spaces", raw: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{name: "no host", raw: "GET / HTTP/1.1\r\n\r\n"},
		{name: "empty host", raw: "GET / HTTP/1.1\r\nHost: \r\n\r\n"},
		{name: "two hosts", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
		{name: "odd host", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"},
		{name: "body length", raw: "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"},
		{name: "chunked", raw: "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{name: "expect", raw: "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"},
		{name: "upgrade", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
		{name: "te", raw: "GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n"},
		{name: "connection names a field", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n"},
		{name: "forwarded already", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"},
		{name: "folded", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n"},
		{name: "bare LF", raw: "GET / HTTP/1.1\nHost: a\r\n\r\n"},
		{name: "bare CR", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n"},
		{name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : a\r\n\r\n"},
		{name: "not all here", raw: "GET / HTTP/1.1\r\nHost: a\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := &clientConn{br: bufio.NewReader(strings.NewReader(c.raw)), forwardFields: "X-Forwarded-For: 1.2.3.4\r\n"}
			_, _ = cc.br.Peek(1)
			req, ok := cc.readPlainRequest()
			if ok != c.plain {
				t.Fatalf("plain = %v, want %v", ok, c.plain)
			}
			if !ok {
				if cc.br.Buffered() != len(c.raw) {
					t.Fatal("the look consumed the request")
				}
				if _, err := http.ReadRequest(cc.br); err == nil && c.name == "bad escape" {
					t.Fatal("http.ReadRequest took a request the plain path refused as malformed")
				}
				return
			}
			if req.Method != c.method || req.RequestURI != c.target || req.Host != c.host || req.Close != c.close || cc.plainBuf.hop != c.hop {
				t.Fatalf("got %s %s host %q close %v hop %v", req.Method, req.RequestURI, req.Host, req.Close, cc.plainBuf.hop)
			}
			if !strings.HasPrefix(c.raw, cc.plainBuf.head) || !strings.HasPrefix(c.raw[len(cc.plainBuf.head):], "\r\n") {
				t.Fatalf("head %q", cc.plainBuf.head)
			}
			if rest, _ := io.ReadAll(cc.br); string(rest) != c.raw[len(cc.plainBuf.head)+2:] {
				t.Fatalf("left in the buffer: %q", rest)
			}
		})
	}
}

// dialHTTPProxy starts an http proxy in front of backend and connects to
// it, with a deadline that ends a stuck test. The connection is closed
// when the test ends.
func dialHTTPProxy(t *testing.T, backend string) (net.Conn, *bufio.Reader) {
	t.Helper()
	cat := &fakeCatalog{}
	cat.set(backend)
	_, addr := startProxy(t, cat, structs.ServiceIngress{Protocol: "http"})
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	return client, bufio.NewReader(client)
}

// A plain request reaches the instance as the client sent it, without the
// fields of the client's connection and with the client's address.
func TestHTTPPlainRequestRelayed(t *testing.T) {
	heads := make(chan string, 4)
	backend := serveLoopback(t, func(conn net.Conn, _ int) {
		br := bufio.NewReader(conn)
		for {
			var head strings.Builder
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if line == "\r\n" {
					break
				}
				head.WriteString(line)
			}
			heads <- head.String()
			answer := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			if strings.HasPrefix(head.String(), "HEAD ") {
				answer = strings.TrimSuffix(answer, "ok")
			}
			_, _ = io.WriteString(conn, answer)
		}
	})
	client, br := dialHTTPProxy(t, backend)
	ip := client.LocalAddr().(*net.TCPAddr).IP.String()
	for _, c := range []struct{ sent, want string }{
		{"GET /a?b=1 HTTP/1.1\r\nhost: api\r\nX-Custom: v\r\n\r\n",
			"GET /a?b=1 HTTP/1.1\r\nhost: api\r\nX-Custom: v\r\nX-Forwarded-For: " + ip + "\r\nForwarded: for=" + ip + ";proto=http\r\n"},
		{"HEAD / HTTP/1.1\r\nConnection: keep-alive\r\nHost: api\r\nKeep-Alive: 300\r\n\r\n",
			"HEAD / HTTP/1.1\r\nHost: api\r\nX-Forwarded-For: " + ip + "\r\nForwarded: for=" + ip + ";proto=http\r\n"},
		{"GET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n",
			"GET / HTTP/1.1\r\nHost: api\r\nX-Forwarded-For: " + ip + "\r\nForwarded: for=" + ip + ";proto=http\r\nConnection: close\r\n"},
	} {
		if _, err := io.WriteString(client, c.sent); err != nil {
			t.Fatal(err)
		}
		if got := <-heads; got != c.want {
			t.Fatalf("sent %q, the instance got %q, want %q", c.sent, got, c.want)
		}
		method := strings.Fields(c.sent)[0]
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || (method == "GET" && string(body) != "ok") {
			t.Fatalf("%s: %s %q", method, resp.Status, body)
		}
	}
}
