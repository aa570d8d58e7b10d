package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
)

// Most answers of an instance are plain: HTTP/1.1, a status with a body,
// a Content-Length, no transfer coding. Such an answer is relayed as it
// came, its fields copied from the instance's connection buffer to the
// client's without building an http.Response (a header map, a string per
// field), which was most of the proxy's own (user-space) work per
// request. Anything else, and anything this reader is not sure about,
// goes through http.ReadResponse, as every answer did before: the check
// only looks, so giving up costs nothing but the look.

// plainAnswer is the head of a plain answer, read from a connection's
// buffer (valid until the buffer is read further).
type plainAnswer struct {
	head   []byte // status line and fields, CRLF-terminated, without the empty line
	hop    bool   // some fields concern the instance's connection only: skip them
	length int64  // of the body
	close  bool   // the instance closes its connection after this answer
}

// readPlainAnswer looks at the answer whole in br's buffer; ok when it is
// a plain answer to req.
func readPlainAnswer(br *bufio.Reader, req *http.Request) (a plainAnswer, ok bool) {
	if req.Method == http.MethodHead {
		return a, false // its Content-Length is the GET's: no body follows
	}
	buf, _ := br.Peek(br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return a, false // not all here yet
	}
	head := buf[:end+2]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !plainStatus(line) {
		return a, false
	}
	a.length = -1
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !validName(name) || !validValue(value) {
			return a, false // folded lines, bare CR or LF, odd names: not sure
		}
		value = bytes.Trim(value, " \t")
		switch {
		case equalFold(name, "Content-Length"):
			n, ok := parseLength(value)
			if !ok || a.length >= 0 {
				return a, false // duplicates are http.ReadResponse's to judge
			}
			a.length = n
		case equalFold(name, "Connection"):
			for token := range bytes.SplitSeq(value, []byte(",")) {
				switch token = bytes.Trim(token, " \t"); {
				case equalFold(token, "close"):
					a.close = true
				case equalFold(token, "keep-alive"), len(token) == 0:
				default:
					return a, false // names more fields to drop
				}
			}
			a.hop = true
		case equalFold(name, "Transfer-Encoding"):
			return a, false
		case equalFold(name, "Content-Type"):
			if len(value) >= len("text/event-stream") && equalFold(value[:len("text/event-stream")], "text/event-stream") {
				return a, false // a stream: sent on as it comes
			}
		case isHopField(name):
			a.hop = true
		}
	}
	if a.length < 0 {
		return a, false
	}
	a.head = head
	return a, true
}

// plainStatus accepts "HTTP/1.1 NNN reason" with a status that has a body.
func plainStatus(line []byte) bool {
	const proto = "HTTP/1.1 "
	if len(line) < len(proto)+4 || string(line[:len(proto)]) != proto || line[len(proto)+3] != ' ' {
		return false
	}
	code := 0
	for _, c := range line[len(proto) : len(proto)+3] {
		if c < '0' || c > '9' {
			return false
		}
		code = code*10 + int(c-'0')
	}
	return code >= 200 && code <= 599 && code != http.StatusNoContent && code != http.StatusNotModified &&
		validValue(line[len(proto)+4:])
}

func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validName is an RFC 9110 token.
func validName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validValue holds visible characters, spaces, tabs and obs-text only.
func validValue(v []byte) bool {
	for _, c := range v {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// equalFold compares ASCII case-insensitively, without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isHopField(name []byte) bool {
	for _, h := range hopHeaders {
		if equalFold(name, h) {
			return true
		}
	}
	return false
}

// writePlainHead writes an answer's status line and fields to the
// client, without those of the instance's connection.
func writePlainHead(w *bufio.Writer, a plainAnswer) {
	if !a.hop {
		w.Write(a.head)
		return
	}
	rest := a.head
	for len(rest) > 0 {
		i := bytes.Index(rest, []byte("\r\n")) + 2
		line := rest[:i]
		rest = rest[i:]
		if name, _, found := bytes.Cut(line, []byte(":")); found && isHopField(name) {
			continue
		}
		w.Write(line)
	}
}

// A plain request is the common GET or HEAD: HTTP/1.1, a path for a
// target, one Host, no body, nothing for this ingress to interpret but
// the connection fields, no X-Forwarded-For or Forwarded to extend. It is
// relayed as it came, with the client's address added, without building
// an http.Request's header map. Anything else goes through
// http.ReadRequest, which also answers malformed requests.

// plainRequest is a plain request's head.
type plainRequest struct {
	head      string // request line and fields, CRLF-terminated, without the empty line
	hop       bool   // some fields concern the client's connection only: skip them
	forwarded string // X-Forwarded-For and Forwarded fields naming the client
}

// readPlainRequest reads a plain request when one is whole in the
// connection's buffer; it reads nothing otherwise. The http.Request it
// returns has what forward and respond use: Method, Proto, Host,
// RequestURI, Close and a NoBody body; no URL and a nil Header (read as
// empty; not to be written to).
func (cc *clientConn) readPlainRequest() (*http.Request, bool) {
	buf, _ := cc.br.Peek(cc.br.Buffered())
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, false
	}
	line, rest, _ := bytes.Cut(buf[:end+2], []byte("\r\n"))
	var method string
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		method = http.MethodGet
	case bytes.HasPrefix(line, []byte("HEAD ")):
		method = http.MethodHead
	default:
		return nil, false
	}
	target, proto, _ := bytes.Cut(line[len(method)+1:], []byte(" "))
	if string(proto) != "HTTP/1.1" || !plainTarget(target) {
		return nil, false
	}
	var host []byte
	hosts, closing, hop := 0, false, false
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !validName(name) || !validValue(value) {
			return nil, false
		}
		value = bytes.Trim(value, " \t")
		switch {
		case equalFold(name, "Host"):
			host = value
			hosts++
		case equalFold(name, "Connection"):
			for token := range bytes.SplitSeq(value, []byte(",")) {
				switch token = bytes.Trim(token, " \t"); {
				case equalFold(token, "close"):
					closing = true
				case equalFold(token, "keep-alive"), len(token) == 0:
				default:
					return nil, false // names more fields to drop, or asks to upgrade
				}
			}
			hop = true
		case equalFold(name, "Content-Length"), equalFold(name, "Transfer-Encoding"), equalFold(name, "Expect"),
			equalFold(name, "Upgrade"), equalFold(name, "Te"), equalFold(name, "Trailer"),
			equalFold(name, "X-Forwarded-For"), equalFold(name, "Forwarded"):
			return nil, false // for http.ReadRequest and prepareRequest
		case isHopField(name):
			hop = true
		}
	}
	if hosts != 1 || len(host) == 0 || !plainHost(string(host)) {
		return nil, false
	}
	// One string for the head; the request's fields are parts of it (the
	// Host's value where its bytes first occur: the same bytes).
	head := string(buf[:end+2])
	targetAt := len(method) + 1
	hostAt := bytes.Index(buf[:end+2], host)
	_, _ = cc.br.Discard(end + 4)
	cc.plainBuf = plainRequest{head: head, hop: hop, forwarded: cc.forwardFields}
	return &http.Request{
		Method: method, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		RequestURI: head[targetAt : targetAt+len(target)],
		Host:       head[hostAt : hostAt+len(host)],
		Close:      closing,
		Body:       http.NoBody,
	}, true
}

// plainTarget is a path and query of RFC 3986's characters, with
// well-formed escapes.
func plainTarget(t []byte) bool {
	if len(t) == 0 || t[0] != '/' {
		return false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case bytes.IndexByte([]byte("-._~!$&'()*+,;=:@/?"), c) >= 0:
		case c == '%' && i+2 < len(t) && isHex(t[i+1]) && isHex(t[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// writePlainRequest writes a plain request's line and fields, without
// those of the client's connection, and the fields naming the client.
func writePlainRequest(w *bufio.Writer, r *plainRequest) {
	if !r.hop {
		w.WriteString(r.head)
	} else {
		rest := r.head
		for len(rest) > 0 {
			i := strings.Index(rest, "\r\n") + 2
			line := rest[:i]
			rest = rest[i:]
			if name, _, found := strings.Cut(line, ":"); found && isHopField([]byte(name)) {
				continue
			}
			w.WriteString(line)
		}
	}
	w.WriteString(r.forwarded)
}
