package fsm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/server/state"
	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

// A log entry or snapshot written by any server must read back as the
// same Go values whichever decoder a server uses: unmarshal (the v1 mode
// of JSON v2) must give exactly what encoding/json gives, and fail exactly
// when it fails. The corpus has every message type and snapshot record
// kind filled in every field, left empty, as the tests and the bench write
// them, hand-written edge cases, and deterministic corruptions of all of
// those.

// bodyTypes is the Go type of the body of every message type.
var bodyTypes = map[MessageType]reflect.Type{
	JobRegister:                  reflect.TypeFor[JobRegisterRequest](),
	JobDeregister:                reflect.TypeFor[JobDeregisterRequest](),
	EvalUpdate:                   reflect.TypeFor[EvalUpdateRequest](),
	AllocClientUpdate:            reflect.TypeFor[AllocClientUpdateRequest](),
	ApplyPlanResults:             reflect.TypeFor[ApplyPlanResultsRequest](),
	NodeRegister:                 reflect.TypeFor[NodeRegisterRequest](),
	NodeUpdateStatus:             reflect.TypeFor[NodeUpdateStatusRequest](),
	EvalDelete:                   reflect.TypeFor[EvalDeleteRequest](),
	AllocUpdateDesiredTransition: reflect.TypeFor[AllocUpdateDesiredTransitionRequest](),
	SchedulerConfigSet:           reflect.TypeFor[SchedulerConfigSetRequest](),
	JobStability:                 reflect.TypeFor[JobStabilityRequest](),
	NodeUpdateDrain:              reflect.TypeFor[NodeUpdateDrainRequest](),
	NodeUpdateEligibility:        reflect.TypeFor[NodeUpdateEligibilityRequest](),
	NodeDeregister:               reflect.TypeFor[NodeDeregisterRequest](),
	ServiceRegistrationUpsert:    reflect.TypeFor[ServiceRegistrationUpsertRequest](),
	ServiceRegistrationDelete:    reflect.TypeFor[ServiceRegistrationDeleteRequest](),
	DeploymentStatusUpdate:       reflect.TypeFor[DeploymentStatusUpdateRequest](),
	DeploymentPromote:            reflect.TypeFor[DeploymentPromoteRequest](),
}

// recordTypes is the Go type of the value of every snapshot record kind.
var recordTypes = map[string]reflect.Type{
	kindNode:       reflect.TypeFor[nodeWire](),
	kindJob:        reflect.TypeFor[structs.Job](),
	kindJobSummary: reflect.TypeFor[structs.JobSummary](),
	kindJobVersion: reflect.TypeFor[structs.Job](),
	kindDeployment: reflect.TypeFor[structs.Deployment](),
	kindServiceReg: reflect.TypeFor[structs.ServiceRegistration](),
	kindSchedCfg:   reflect.TypeFor[structs.SchedulerConfiguration](),
	kindEval:       reflect.TypeFor[structs.Evaluation](),
	kindAlloc:      reflect.TypeFor[structs.Allocation](),
	kindIndex:      reflect.TypeFor[state.IndexEntry](),
}

func TestBodyTypesCoverEveryMessageType(t *testing.T) {
	for typ := range messageTypeNames {
		if bodyTypes[typ] == nil {
			t.Errorf("no body type for %s: add it to bodyTypes so its decoding is checked", typ)
		}
	}
}

// sameDecoding decodes data into a new value of typ with encoding/json and
// with unmarshal, and reports how they differ, if they do.
func sameDecoding(typ reflect.Type, data []byte) error {
	want := reflect.New(typ)
	wantErr := json.Unmarshal(data, want.Interface())
	got := reflect.New(typ)
	gotErr := jsondecode.Unmarshal(data, got.Interface())
	switch {
	case (wantErr == nil) != (gotErr == nil):
		return fmt.Errorf("%s from %q: encoding/json error %v, unmarshal error %v", typ, data, wantErr, gotErr)
	case wantErr == nil && !reflect.DeepEqual(want.Interface(), got.Interface()):
		return fmt.Errorf("%s from %q decodes differently:\nencoding/json: %s\nunmarshal:     %s",
			typ, data, statetest.Dump(want.Interface()), statetest.Dump(got.Interface()))
	}
	return nil
}

// decodingCase is one body and the type it is read as.
type decodingCase struct {
	name string
	typ  reflect.Type
	data []byte
}

func TestUnmarshalMatchesEncodingJSON(t *testing.T) {
	cases := decodingCorpus(t)
	checked := 0
	for _, c := range cases {
		for i, data := range append([][]byte{c.data}, corruptions(c.data)...) {
			checked++
			if err := sameDecoding(c.typ, data); err != nil {
				t.Errorf("%s (variant %d): %v", c.name, i, err)
			}
		}
	}
	t.Logf("checked %d bodies", checked)
}

// FuzzUnmarshalMatchesEncodingJSON reads the first byte as the message
// type (or, past the message types, a snapshot record kind) and the rest
// as its body.
func FuzzUnmarshalMatchesEncodingJSON(f *testing.F) {
	types := fuzzTypes()
	for _, c := range decodingCorpus(f) {
		for i, typ := range types {
			if typ == c.typ {
				f.Add(append([]byte{byte(i)}, c.data...))
				break
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if err := sameDecoding(types[int(data[0])%len(types)], data[1:]); err != nil {
			t.Fatal(err)
		}
	})
}

// fuzzTypes lists every body and record type in a fixed order.
func fuzzTypes() []reflect.Type {
	var out []reflect.Type
	for typ := range 256 {
		if bt, ok := bodyTypes[MessageType(typ)]; ok {
			out = append(out, bt)
		}
	}
	for _, kind := range []string{kindNode, kindJob, kindJobSummary, kindDeployment, kindServiceReg, kindSchedCfg, kindEval, kindAlloc, kindIndex} {
		out = append(out, recordTypes[kind])
	}
	return out
}

func decodingCorpus(tb testing.TB) []decodingCase {
	tb.Helper()
	var cases []decodingCase
	add := func(name string, typ reflect.Type, data []byte) {
		cases = append(cases, decodingCase{name: name, typ: typ, data: data})
	}
	body := func(typ MessageType, req any) []byte {
		entry, err := Encode(typ, req)
		if err != nil {
			tb.Fatalf("encode %s: %v", typ, err)
		}
		return entry[1:]
	}

	// Every message type, with every field set, and with none.
	for typ, bt := range bodyTypes {
		full := reflect.New(bt)
		fill(full.Elem(), 0)
		add(typ.String()+" filled", bt, body(typ, full.Interface()))
		add(typ.String()+" empty", bt, body(typ, reflect.New(bt).Interface()))
	}
	// Every snapshot record kind, the same way.
	for kind, rt := range recordTypes {
		full := reflect.New(rt)
		fill(full.Elem(), 0)
		data, err := json.Marshal(full.Interface())
		if err != nil {
			tb.Fatal(err)
		}
		add(kind+" record filled", rt, data)
		data, _ = json.Marshal(reflect.New(rt).Interface())
		add(kind+" record empty", rt, data)
	}

	// What the tests and the bench write.
	job := statetest.Job("web")
	job.TaskGroups[0].Tasks[0].Config["mounts"] = []any{map[string]any{"type": "bind", "readonly": true, "count": 2}}
	alloc := statetest.Alloc("a1", job, 0, "n1", "e1")
	add("fixture JobRegister", bodyTypes[JobRegister], body(JobRegister, &JobRegisterRequest{Job: job, Eval: statetest.Eval("e1", job)}))
	nodeBody := body(NodeRegister, &NodeRegisterRequest{Node: statetest.Node("n1")})
	add("fixture NodeRegister", bodyTypes[NodeRegister], nodeBody)
	add("fixture ApplyPlanResults", bodyTypes[ApplyPlanResults], body(ApplyPlanResults, &ApplyPlanResultsRequest{
		Job: job, AllocsUpdated: []*structs.Allocation{alloc}, EvalID: "e1"}))
	add("fixture AllocClientUpdate", bodyTypes[AllocClientUpdate], body(AllocClientUpdate, &AllocClientUpdateRequest{
		Allocs: []*structs.Allocation{{ID: "a1", ClientStatus: "running", TaskStates: statetest.TaskStates("running", time.Unix(1, 0))}}}))
	add("bench JobRegister", bodyTypes[JobRegister], benchRegistration(tb, 7)[1:])

	// A snapshot of a state that holds one of everything the fixtures make.
	seed := New(nil)
	for i, entry := range [][]byte{
		append([]byte{byte(NodeRegister)}, nodeBody...),
		benchRegistration(tb, 8),
	} {
		if err, ok := seed.Apply(&raft.Log{Index: uint64(i + 1), Data: entry}).(error); ok {
			tb.Fatal(err)
		}
	}
	snap, err := seed.Snapshot()
	if err != nil {
		tb.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		tb.Fatal(err)
	}
	lines := bufio.NewScanner(bytes.NewReader(sink.Bytes()))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var rec recordIn
		if json.Unmarshal(lines.Bytes(), &rec) != nil || recordTypes[rec.Kind] == nil {
			continue // the header
		}
		add("snapshot "+rec.Kind, recordTypes[rec.Kind], append([]byte(nil), rec.Value...))
	}

	// Edge cases of the JSON itself.
	jr, node, alloc2 := bodyTypes[JobRegister], bodyTypes[NodeRegister], recordTypes[kindAlloc]
	for i, s := range []string{
		`{"job":{"id":"x","taskgroups":[{"NAME":"g"}]}}`, // names match without regard to case
		`{"Job":{"ID":"a","ID":"b"}}`,                    // the last duplicate wins
		`{"Job":{"ID":"a","id":"b"}}`,
		`{"Job":{"ID":"a"},"Unknown":{"x":[1,2]}}`,
		`{"Job":{"Priority":1.0}}`,
		`{"Job":{"Priority":"1"}}`,
		`{"Job":{"Priority":99999999999999999999}}`,
		`{"Job":{"Priority":-1}}`,
		`{"Job":{"Version":-1}}`,
		`{"Job":{"SubmitTime":1e3}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"Config":{"a":1e400}}]}]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"Config":{"a":-0,"b":1E-7,"c":12345678901234567890,"d":0.1}}]}]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"Config":{"a":null,"b":[null,{}],"c":{"d":[[]]}}}]}]}}`,
		`{"Job":{"TaskGroups":[null]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":null}]}}`,
		`{"Job":{"Meta":{"a":null,"b":"c"}}}`,
		`{"Job":{"Meta":{"a":1}}}`,
		`{"Job":{"Datacenters":null,"Meta":null}}`,
		`{"Job":{"Datacenters":"dc1"}}`,
		`{"Job":{"ID":"\u00e9\ud83d\ude00\u2028<>&\"\\\/"}}`,
		`{"Job":{"ID":"\ud800"}}`,
		`{"Job":{"ID":"\udc00\ud800x"}}`,
		"{\"Job\":{\"ID\":\"\xff\xfe\"}}",
		"{\"Job\":{\"ID\":\"a\x00b\"}}",
		"{\"Job\":{\"ID\":\"tab\there\"}}",
		`{"Job":{"ID":"\x"}}`,
		`{"Job":{"Stop":"true"}}`,
		`{"Job":{"Stop":1}}`,
		`{"Job":{"Stop":null}}`,
		`{"Job":null,"Eval":null}`,
		`{"Eval":{"WaitUntil":"2024-01-02T03:04:05.123456789+02:00"}}`,
		`{"Eval":{"WaitUntil":"not a time"}}`,
		`{"Eval":{"WaitUntil":"2024-01-02T03:04:0\u0035Z"}}`, // time.Time.UnmarshalJSON does not unescape
		`{"Eval":{"WaitUntil":"2024-01-02T3:04:05Z"}}`,
		`{"Eval":{"WaitUntil":"2024-01-02t03:04:05z"}}`,
		`{"Eval":{"WaitUntil":"2024-01-02T03:04:05.Z"}}`,
		`{"Eval":{"WaitUntil":" 2024-01-02T03:04:05Z"}}`,
		`{"Eval":{"WaitUntil":"2024-01-02T03:04:05+24:00"}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"KillTimeout":1e3}]}]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"KillTimeout":"5s"}]}]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"KillTimeout":1.5}]}]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"KillTimeout":-5}]}]}}`,
		`{"Job":{"TaskGroups":[{"Tasks":[{"KillTimeout":9223372036854775808}]}]}}`,
		`{"Eval":{"WaitUntil":null}}`,
		`{"Eval":{"WaitUntil":12}}`,
		`{"Eval":{"QueuedAllocations":{"g":1,"h":-2}}}`,
		`{"Eval":{"QueuedAllocations":{"g":1.5}}}`,
		`{"Eval":{"FailedTGAllocs":{"g":null}}}`,
		`null`, `{}`, `[]`, `""`, `1`, `true`, ` {"Job" : { } } `, "\t\n{}\r\n",
		`{"Job":{}}x`, `{"Job":{}} {}`, `{"Job":{}`, `{"Job"}`, `{"Job":}`, `{,}`, `{"Job":{},}`,
		`{"Job":[]}`, `{"Job":"x"}`, "\xef\xbb\xbf{}",
	} {
		add(fmt.Sprintf("edge %d", i), jr, []byte(s))
	}
	add("node with secret", node, []byte(`{"Node":{"ID":"n","SecretID":"s","Attributes":{"a":"b"}},"Evals":[]}`))
	add("node secret case", node, []byte(`{"node":{"id":"n","secretid":"s"}}`))
	add("node null", node, []byte(`{"Node":null}`))
	add("node not an object", node, []byte(`{"Node":[]}`))
	add("alloc task states", alloc2, []byte(`{"ID":"a","TaskStates":{"t":{"State":"running","StartedAt":"2024-01-02T03:04:05Z","Events":[{"Type":"x","Time":5}]}}}`))
	add("alloc null task state", alloc2, []byte(`{"ID":"a","TaskStates":{"t":null}}`))
	return cases
}

// corruptions returns deterministic damaged copies of data: cut short,
// with one byte replaced, and with field names in another case.
func corruptions(data []byte) [][]byte {
	var out [][]byte
	step := max(1, len(data)/40)
	for n := 0; n < len(data); n += step {
		out = append(out, data[:n])
	}
	replacements := []byte{'0', '"', '}', ']', ',', 'n', '-', '.', 'e', '\\', 0x80, ' ', '{', '['}
	for i := 0; i < len(data); i += step {
		r := replacements[(i/step)%len(replacements)]
		c := append([]byte(nil), data...)
		c[i] = r
		out = append(out, c)
	}
	out = append(out, bytes.ToLower(data), bytes.ToUpper(data))
	return out
}

// fill sets every exported field reachable from v to a value that is not
// the zero value, deterministically, down to a fixed depth.
func fill(v reflect.Value, depth int) {
	const maxDepth = 12
	if depth > maxDepth || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-é<&>\"\\\u2028", depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			v.SetInt(int64(90 * time.Second))
			return
		}
		v.SetInt(int64(depth + 3))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(depth + 5))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(depth) + 0.25)
	case reflect.Pointer:
		if depth == maxDepth {
			return // nil rather than an empty object at the bottom
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Interface:
		if v.Type().NumMethod() == 0 {
			v.Set(reflect.ValueOf(jsonShaped()))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1_700_000_000, 123_456_789).In(time.FixedZone("", 3600))))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if depth == maxDepth {
			return // its elements could not be filled
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth == maxDepth {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, depth+1)
			if k.Kind() == reflect.String {
				k.SetString(fmt.Sprintf("k%d", i))
			} else if k.CanInt() {
				k.SetInt(int64(i))
			}
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}

// jsonShaped is a free-form value like a task's config.
func jsonShaped() map[string]any {
	return map[string]any{
		"image": "redis:7", "count": 3, "ratio": 0.5, "big": 1e21, "neg": -7, "on": true, "none": nil,
		"args":   []any{"a", 1, nil, false, []any{}, map[string]any{}},
		"mounts": []any{map[string]any{"type": "bind", "readonly": true, "target": strings.Repeat("x", 40)}},
	}
}
