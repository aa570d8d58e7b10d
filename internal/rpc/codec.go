package rpc

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/structs"
)

// The wire format of one call, on a yamux stream:
//
//	dialer: msgpack(request)   listener: msgpack(response)
//
// A stream carries one call, or several one after the other when both
// sides say so (request.Keep, response.Kept): opening and closing a stream
// takes four frames of its own (SYN, ACK and a FIN each way), each a write
// on the connection, twice what the call itself takes.
//
// The envelopes are msgpack; the arguments and replies inside them are JSON
// bytes, on purpose: task configs hold JSON-shaped values (float64, []any,
// map[string]any) that msgpack would decode into other types (int64,
// []interface{} of uint8 strings...). JSON is also what the Raft log and the
// HTTP API carry, so a value reads the same on every path.
type request struct {
	Method string
	Args   []byte
	// Body says chunks follow (see stream.go): a byte stream sent with
	// the call, such as a snapshot to restore.
	Body bool
	// Keep says the caller may send its next call on this stream once this
	// one is answered, rather than close it. Servers that predate it
	// ignore it and answer Kept false.
	Keep bool
}

type response struct {
	// Kind names the class of Error (see errorKinds) so that a 404 on the
	// leader is a 404 on the server that forwarded to it.
	Kind  string
	Error string
	Reply []byte
	// Stream says chunks follow (see stream.go) instead of a Reply.
	Stream bool
	// Kept answers request.Keep: the server reads the caller's next call
	// from this stream, and takes the stream's end as the caller's cancel
	// of the call in flight, if any.
	Kept bool
}

var msgpackHandle = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.RawToString = true
	h.WriteExt = true
	return h
}()

// Encoders and decoders are reused: making one allocates its buffers and
// state, and every call makes two of each. Between uses they point at
// nothing of a caller's, so a pooled one keeps no stream alive.
var (
	encoders = sync.Pool{New: func() any { return codec.NewEncoder(io.Discard, msgpackHandle) }}
	decoders = sync.Pool{New: func() any { return codec.NewDecoder(eof{}, msgpackHandle) }}
)

// eof is an empty reader, what a pooled decoder reads between uses.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

func writeMsg(w io.Writer, v any) error {
	enc := encoders.Get().(*codec.Encoder)
	enc.Reset(w)
	err := enc.Encode(v)
	enc.Reset(io.Discard)
	encoders.Put(enc)
	return err
}

func readMsg(r io.Reader, v any) error {
	dec := decoders.Get().(*codec.Decoder)
	dec.Reset(r)
	err := dec.Decode(v)
	dec.Reset(eof{})
	decoders.Put(dec)
	return err
}

// Args are a call's arguments: JSON-encoded values, and the byte stream
// sent with them, if any.
type Args struct {
	data []byte
	body io.Reader
}

// Decode reads the arguments into v. A malformed body is the caller's
// mistake, so it is a bad request.
func (a Args) Decode(v any) error {
	if err := jsondecode.Unmarshal(a.data, v); err != nil {
		return structs.BadRequest(fmt.Errorf("rpc: decoding arguments: %w", err))
	}
	return nil
}

// Body is the byte stream the caller sent with CallWithBody, or nil. It
// ends with io.EOF when the caller sent it all, or with the caller's error.
func (a Args) Body() io.Reader { return a.body }

// errorKinds are the error classes that keep their meaning across a call.
var errorKinds = []struct {
	name string
	err  error
}{
	{"not_found", structs.ErrNotFound},
	{"bad_request", structs.ErrBadRequest},
	{"no_leader", structs.ErrNoLeader},
	{"ambiguous_id", structs.ErrAmbiguousID},
	{"outcome_unknown", structs.ErrOutcomeUnknown},
}

func kindOf(err error) string {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return ""
}

// RemoteError is an error returned by the remote handler. It keeps the
// remote message as is and, through Unwrap, its class.
type RemoteError struct {
	Msg  string
	kind error
}

func (e *RemoteError) Error() string { return e.Msg }
func (e *RemoteError) Unwrap() error { return e.kind }

func remoteError(kind, msg string) error {
	e := &RemoteError{Msg: msg}
	for _, k := range errorKinds {
		if k.name == kind {
			e.kind = k.err
		}
	}
	return e
}
