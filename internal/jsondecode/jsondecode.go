// Package jsondecode decodes JSON exactly as encoding/json does, with less
// CPU: Raft log entries and snapshot records (every server decodes every
// entry), HTTP request bodies and RPC arguments and replies all go through
// it, so that they accept and produce the same values.
package jsondecode

import (
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Unmarshal decodes data into v with the semantics of encoding/json
// (numbers in free-form values as float64, field names matched without
// regard to case, unknown fields ignored). Only its error messages differ
// from encoding/json's: callers that show them to users decode a refused
// input again with encoding/json (agent/http does).
//
// It is the v1 mode of the JSON v2 implementation (go-json-experiment, the
// code of Go's encoding/json/v2). server/fsm's unmarshal_test.go holds it
// to encoding/json's results on every log message type and snapshot
// record, agent/http's decode_test.go on request bodies, and fuzz tests
// look for differences.
func Unmarshal(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, options)
}

var options = jsonv2.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	// Times as encoding/json reads them: the raw JSON value handed to
	// time.Time's own UnmarshalJSON. The v1 mode parses them itself, and
	// accepts what that method rejects (escapes in the string, a one-digit
	// hour): a malformed log entry would then apply on an upgraded server
	// and fail on one not yet upgraded.
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, t *time.Time) error {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return t.UnmarshalJSON(raw)
	})),
)
