package http

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/drover-project/drover/structs"
)

// registerBodies are job registration bodies that probe where a JSON
// decoder could part from encoding/json: name matching, unknown and
// duplicate members, nulls, number forms, escapes, invalid UTF-8 and
// malformed input.
var registerBodies = []string{
	// As the Go client sends it (bench/cluster's job).
	`{"Job":{"ID":"bench","Name":"bench","Namespace":"","Region":"","Type":"","Priority":0,"Datacenters":["*"],"NodePool":"","Meta":null,"TaskGroups":[{"Name":"g","Count":1,"Tasks":[{"Name":"t","Driver":"docker","Config":{"image":"drover-demo:v1"},"Env":null,"Resources":{"CPU":50,"Cores":0,"MemoryMB":32,"MemoryMaxMB":0},"Meta":null,"Services":null,"KillTimeout":0,"Leader":false,"ShutdownDelay":0,"Constraints":null,"Affinities":null}],"Networks":null,"RestartPolicy":null,"Meta":null,"Services":null,"ShutdownDelay":0,"Constraints":null,"Affinities":null,"Spreads":null}],"Constraints":null,"Affinities":null,"Spreads":null,"Stop":false,"Status":"","StatusDescription":"","Stable":false,"Version":0,"SubmitTime":0,"CreateIndex":0,"ModifyIndex":0,"JobModifyIndex":0},"EnforceIndex":false,"JobModifyIndex":0,"PolicyOverride":false,"PreserveCounts":false}`,
	// Names in any case; delimiters are not ignored ("Task_Groups" is unknown).
	`{"job": {"id": "web", "NAME": "Web", "taskgroups": [{"name": "g", "COUNT": 3, "tasks": [{"Name": "t", "driver": "docker", "config": {"Image": "x", "ports": ["http"]}}]}], "Task_Groups": [{"Name": "no"}]}, "enforceINDEX": true, "jobmodifyindex": 7}`,
	// Unicode case folding of names: "ſ" (U+017F) folds to "s", "K" (U+212A) to "k".
	`{"Job": {"ID": "a", "Datacenter\u017f": ["dc1"], "Priority": 10, "\u212aillTimeout": 5}}`,
	// Unknown members, nested and of every kind, as Nomad's client sends.
	`{"Job": {"ID": "web", "Update": {"MaxParallel": 1, "Canary": [1, {"x": null}]}, "Vault": null, "Multiregion": {}, "TaskGroups": [{"Name": "g", "Volumes": {"v": {"Type": "host"}}, "Tasks": [{"Name": "t", "Vault": null, "Templates": []}]}]}, "Submission": {"Source": "job {}"}, "EvalPriority": 50}`,
	// Duplicate members: the last wins.
	`{"Job": {"ID": "first", "ID": "second", "id": "third", "Meta": {"a": "1", "a": "2"}}}`,
	// Nulls everywhere: pointers, slices, maps, strings, numbers, booleans.
	`{"Job": {"ID": null, "Priority": null, "Stop": null, "Meta": null, "TaskGroups": [null, {"Name": "g", "Count": null, "Tasks": null, "RestartPolicy": null}]}, "EnforceIndex": null}`,
	`null`,
	`{}`,
	`{"Job": null}`,
	`  {"Job": {"ID": "w"}}  ` + "\n\t",
	// Numbers: config values stay float64; integers in exponent form or with
	// a fraction are errors for int fields; overflow and sign are errors.
	`{"Job": {"ID": "n", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Config": {"a": 1, "b": 1.5, "c": -0, "d": 1e300, "e": 12345678901234567890, "f": [1, "x", true, null, {"g": {}}]}}]}]}}`,
	`{"Job": {"ID": "n", "Priority": 1.0}}`,
	`{"Job": {"ID": "n", "Priority": 1e2}}`,
	`{"Job": {"ID": "n", "Priority": 99999999999999999999}}`,
	`{"Job": {"ID": "n", "JobModifyIndex": -1}}`,
	`{"JobModifyIndex": 18446744073709551615}`,
	`{"Job": {"ID": "n", "SubmitTime": -9223372036854775808}}`,
	// Strings: escapes, surrogate pairs, invalid UTF-8 (replaced with U+FFFD).
	`{"Job": {"ID": "\u0077eb\/\"\\\n\t\u00e9\ud83d\ude00", "Name": "` + "caf\xe9 \xff\xfe" + `", "Meta": {"k\u00e9y": "\ud800"}}}`,
	// Wrong types: strings for numbers and booleans, objects for arrays.
	`{"Job": {"ID": "w", "Priority": "high"}}`,
	`{"Job": {"ID": "w", "TaskGroups": [{"Count": true}]}}`,
	`{"EnforceIndex": "true"}`,
	`{"Job": {"ID": "w", "Meta": {"a": 1}}}`,
	`{"Job": {"ID": "w", "Datacenters": {"0": "dc1"}}}`,
	`{"Job": {"ID": 5}}`,
	`{"Job": []}`,
	`[1, 2]`,
	`"job"`,
	// Malformed.
	`{"Job": {"ID": "web",,}}`,
	`{"Job": {"ID": "web"`,
	`{"Job": {"ID": "web"}} trailing`,
	`{"Job": {"ID": "web"}}{}`,
	`{'Job': {}}`,
	`{"Job": {"ID": "w"}, }`,
	`{"Job": {"ID": "w\x01"}}`,
	`{"Job": {"ID": NaN}}`,
	``,
}

// TestDecodeJSONDecodesAsEncodingJSON holds decodeJSON to what
// encoding/json makes of a registration body: the same value, or an error
// (then the same message, since encoding/json writes it).
func TestDecodeJSONDecodesAsEncodingJSON(t *testing.T) {
	for _, body := range registerBodies {
		checkDecodesAsEncodingJSON(t, []byte(body))
	}
}

func checkDecodesAsEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	var want, got structs.JobRegisterRequest
	wantErr := json.Unmarshal(body, &want)
	gotErr := decodeJSON(body, &got)
	switch {
	case wantErr == nil && gotErr != nil:
		t.Errorf("body %q: encoding/json decodes it, decodeJSON fails: %v", body, gotErr)
	case wantErr != nil && gotErr == nil:
		t.Errorf("body %q: encoding/json fails (%v), decodeJSON decodes it", body, wantErr)
	case wantErr == nil && !reflect.DeepEqual(got, want):
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("body %q:\n decodeJSON   %s\n encoding/json %s", body, g, w)
	case wantErr != nil && gotErr != nil:
		if want := decodeJSONStd(body); gotErr.Error() != want {
			t.Errorf("body %q: error %q, want %q", body, gotErr, want)
		}
	}
}

// decodeJSONStd is decodeJSON's error message as encoding/json alone
// gave it.
func decodeJSONStd(body []byte) string {
	var v structs.JobRegisterRequest
	err := json.Unmarshal(body, &v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return ""
	case asErr(err, &syntax) && syntax.Offset >= int64(len(body)):
		return badRequest("malformed JSON body: it ends before the value is complete").Error()
	case asErr(err, &syntax):
		line, col := position(body, syntax.Offset)
		return badRequest("malformed JSON body at line %d, column %d: %s", line, col, syntax.Error()).Error()
	case asErr(err, &typ):
		line, col := position(body, typ.Offset)
		return badRequest("malformed JSON body at line %d, column %d: field %q must be %s, not a JSON %s",
			line, col, typ.Field, typ.Type, typ.Value).Error()
	}
	return badRequest("malformed JSON body: %v", err).Error()
}

func asErr[T error](err error, target *T) bool {
	e, ok := err.(T)
	if ok {
		*target = e
	}
	return ok
}

// FuzzDecodeJSON looks for registration bodies that decodeJSON reads
// otherwise than encoding/json.
func FuzzDecodeJSON(f *testing.F) {
	for _, body := range registerBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecodesAsEncodingJSON(t, body)
	})
}
