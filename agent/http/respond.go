package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/drover-project/drover/internal/jsondecode"
	"github.com/drover-project/drover/structs"
)

// Limits on what a request may ask.
const (
	// maxQueryTime caps a blocking query's wait, as Nomad's.
	maxQueryTime = 5 * time.Minute
	// defaultQueryTime is the wait of a blocking query that names none.
	defaultQueryTime = 5 * time.Minute
	// maxBodyBytes bounds a request body; job files are far smaller.
	maxBodyBytes = 16 << 20
)

// errNoServer answers cluster routes on an agent that runs no server.
var errNoServer = errors.New("this agent runs no server: send the request to a server agent's HTTP API")

// readFunc answers a read with a value and the meta of the state it came from.
type readFunc func(r *http.Request, q *structs.QueryOptions) (any, structs.QueryMeta, error)

// writeFunc answers a write with a value and the Raft index it was applied at.
type writeFunc func(r *http.Request, q *structs.QueryOptions) (any, uint64, error)

// read adapts a readFunc: it parses the query options, calls fn and answers
// JSON with the X-Nomad-Index, X-Nomad-KnownLeader and X-Nomad-LastContact
// headers.
func (a *api) read(fn readFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.Server == nil {
			writeError(w, errNoServer)
			return
		}
		q, err := parseQueryOptions(r)
		if err != nil {
			writeError(w, err)
			return
		}
		out, meta, err := fn(r, q)
		if err != nil {
			writeError(w, err)
			return
		}
		setMeta(w, meta)
		writeJSON(w, r, out)
	}
}

// write adapts a writeFunc: it answers JSON with the X-Nomad-Index header.
func (a *api) write(fn writeFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.Server == nil {
			writeError(w, errNoServer)
			return
		}
		q, err := parseQueryOptions(r)
		if err != nil {
			writeError(w, err)
			return
		}
		out, index, err := fn(r, q)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("X-Nomad-Index", strconv.FormatUint(max(index, 1), 10))
		writeJSON(w, r, out)
	}
}

// parseQueryOptions reads the query parameters every read accepts.
func parseQueryOptions(r *http.Request) (*structs.QueryOptions, error) {
	v := query(r)
	q := &structs.QueryOptions{
		Region:    v.Get("region"),
		Namespace: v.Get("namespace"),
		Prefix:    v.Get("prefix"),
	}
	if q.Namespace == "" {
		q.Namespace = structs.DefaultNamespace
	}
	if s := v.Get("index"); s != "" {
		index, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, badRequest("invalid index %q: want a non-negative integer", s)
		}
		q.MinQueryIndex = index
	}
	if s := v.Get("wait"); s != "" {
		wait, err := time.ParseDuration(s)
		if err != nil || wait < 0 {
			return nil, badRequest("invalid wait %q: want a duration such as \"10s\" or \"5m\"", s)
		}
		q.MaxQueryTime = min(wait, maxQueryTime)
	}
	if q.MinQueryIndex > 0 && q.MaxQueryTime == 0 {
		q.MaxQueryTime = defaultQueryTime
	}
	if v.Has("stale") {
		stale, err := parseBool(v.Get("stale"), true)
		if err != nil {
			return nil, badRequest("invalid stale %q: want true or false", v.Get("stale"))
		}
		q.AllowStale = stale
	}
	return q, nil
}

// query parses r's query string. Most writes have none: then it returns
// nil, which reads as empty, without allocating the map r.URL.Query()
// makes on every call.
func query(r *http.Request) url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}

// parseBool reads a boolean query parameter; empty means def.
func parseBool(s string, def bool) (bool, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseBool(s)
}

// boolParam reads the named boolean query parameter, false when absent.
func boolParam(r *http.Request, name string) (bool, error) {
	s := query(r).Get(name)
	b, err := parseBool(s, false)
	if err != nil {
		return false, badRequest("invalid %s %q: want true or false", name, s)
	}
	return b, nil
}

// setMeta writes the headers Nomad's clients read after every query. An
// index of 0 is sent as 1 so that a client using it as the next blocking
// index really blocks.
func setMeta(w http.ResponseWriter, meta structs.QueryMeta) {
	h := w.Header()
	h.Set("X-Nomad-Index", strconv.FormatUint(max(meta.Index, 1), 10))
	h.Set("X-Nomad-KnownLeader", strconv.FormatBool(meta.KnownLeader))
	h.Set("X-Nomad-LastContact", strconv.FormatInt(meta.LastContact.Milliseconds(), 10))
}

// writeJSON answers 200 with v as JSON, indented when ?pretty is given,
// and ended by a newline either way.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	var out []byte
	var err error
	if query(r).Has("pretty") {
		out, err = json.MarshalIndent(v, "", "    ")
	} else {
		out, err = json.Marshal(v)
	}
	if err != nil {
		writeError(w, fmt.Errorf("encoding response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// The client may have gone; nothing is left to tell it. The two writes
	// leave in one: the server buffers a response until the handler returns.
	_, _ = w.Write(out)
	_, _ = w.Write(newline)
}

var newline = []byte("\n")

// writeError answers err as plain text, with the status its kind calls for.
func writeError(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), statusOf(err))
}

// statusOf maps an error to its HTTP status: the caller's mistakes are 4xx,
// everything else is the server's 500.
func statusOf(err error) int {
	switch {
	case errors.Is(err, structs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, structs.ErrBadRequest), errors.Is(err, structs.ErrAmbiguousID):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func badRequest(format string, args ...any) error {
	return structs.BadRequest(fmt.Errorf(format, args...))
}

func notFound(format string, args ...any) error {
	return structs.NotFound(fmt.Errorf(format, args...))
}

// decodeBody reads a JSON request body into v. Unknown fields are ignored,
// since Nomad's clients send many fields drover does not know. A malformed
// body is a bad request whose message says where the problem is.
func decodeBody(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return badRequest("reading request body: %v", err)
	}
	if len(data) > maxBodyBytes {
		return badRequest("request body is larger than %d bytes", maxBodyBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return badRequest("request body is empty: want a JSON object")
	}
	return decodeJSON(data, v)
}

// readBody reads at most maxBodyBytes+1 bytes of the body, into one
// buffer of the announced length when there is one (io.ReadAll would
// start small and grow it several times).
func readBody(r *http.Request) ([]byte, error) {
	body := io.LimitReader(r.Body, maxBodyBytes+1)
	if r.ContentLength <= 0 || r.ContentLength > maxBodyBytes {
		return io.ReadAll(body)
	}
	// One byte more than announced, so the end is seen without growing.
	data := make([]byte, 0, r.ContentLength+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := body.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return data, err
		}
	}
}

// decodeJSON unmarshals data into v and turns a failure into a bad request
// naming the line, column and (for type errors) the field.
//
// It decodes with internal/jsondecode first (encoding/json's behaviour in
// about two thirds of the time and half the allocations). Only its error
// messages differ, so a body it refuses is decoded again, into a fresh
// value, by encoding/json, whose answer stands. v points to a zero value.
// decode_test.go checks both decode the same bodies alike.
func decodeJSON(data []byte, v any) error {
	if jsondecode.Unmarshal(data, v) == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Offset >= int64(len(data)):
		return badRequest("malformed JSON body: it ends before the value is complete")
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		return badRequest("malformed JSON body at line %d, column %d: %s", line, col, syntax.Error())
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		// Field is the dotted path from the body's root, e.g. "Job.TaskGroups.Count".
		return badRequest("malformed JSON body at line %d, column %d: field %q must be %s, not a JSON %s",
			line, col, typ.Field, typ.Type, typ.Value)
	}
	return badRequest("malformed JSON body: %v", err)
}

// position gives the 1-based line and column of the last byte the decoder
// read before it failed: encoding/json reports offsets just past it.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// orEmpty returns s, or an empty slice when s is nil, so lists encode as
// [] rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
