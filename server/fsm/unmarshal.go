package fsm

import (
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// unmarshal decodes the JSON of a log entry or snapshot record into v, with
// the semantics of encoding/json (numbers in free-form values as float64,
// field names matched without regard to case, unknown fields ignored):
// entries written by any earlier server read exactly as they did.
//
// It is the v1 mode of the JSON v2 implementation (go-json-experiment, the
// code of Go's encoding/json/v2), which decodes the same values with much
// less CPU. Every server decodes every entry, so this is a large part of
// what a write costs. unmarshal_test.go holds it to encoding/json's results
// on every message type and snapshot record, and a fuzz test looks for
// differences.
func unmarshal(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, unmarshalOptions)
}

var unmarshalOptions = jsonv2.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	// Times as encoding/json reads them: the raw JSON value handed to
	// time.Time's own UnmarshalJSON. The v1 mode parses them itself, and
	// accepts what that method rejects (escapes in the string, a one-digit
	// hour): a malformed entry would then apply on an upgraded server and
	// fail on one not yet upgraded.
	jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, t *time.Time) error {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return t.UnmarshalJSON(raw)
	})),
)
