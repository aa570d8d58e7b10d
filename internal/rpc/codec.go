package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/drover-project/drover/structs"
)

// The wire format of one call, on its own yamux stream:
//
//	dialer: msgpack(request)   listener: msgpack(response)
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
}

type response struct {
	// Kind names the class of Error (see errorKinds) so that a 404 on the
	// leader is a 404 on the server that forwarded to it.
	Kind  string
	Error string
	Reply []byte
	// Stream says chunks follow (see stream.go) instead of a Reply.
	Stream bool
}

var msgpackHandle = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	h.RawToString = true
	h.WriteExt = true
	return h
}()

func writeMsg(w io.Writer, v any) error {
	return codec.NewEncoder(w, msgpackHandle).Encode(v)
}

func readMsg(r io.Reader, v any) error {
	return codec.NewDecoder(r, msgpackHandle).Decode(v)
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
	if err := json.Unmarshal(a.data, v); err != nil {
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
