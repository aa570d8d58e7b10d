package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// Log origins: where an offset counts from.
const (
	OriginStart = "start"
	OriginEnd   = "end"
)

// AllocFS is the /v1/client/fs/ part of the API.
type AllocFS struct{ c *Client }

// AllocFS returns the allocation file system endpoints.
func (c *Client) AllocFS() *AllocFS { return &AllocFS{c} }

// Logs opens a task's log ("stdout" or "stderr") of an allocation, from
// offset bytes after the start or before the end (origin). With follow it
// keeps reading as the task writes, until the task is finished for good or
// the stream is closed. q may be nil; its context ends the request.
func (f *AllocFS) Logs(allocID, task, logType string, follow bool, origin string, offset int64, q *QueryOptions) (*LogStream, error) {
	params := f.c.params(q)
	params.Set("task", task)
	params.Set("type", logType)
	params.Set("follow", strconv.FormatBool(follow))
	params.Set("origin", origin)
	params.Set("offset", strconv.FormatInt(offset, 10))
	resp, err := f.c.do(q.Context(), http.MethodGet, "/v1/client/fs/logs/"+escape(allocID), params, nil)
	if err != nil {
		return nil, err
	}
	return &LogStream{body: resp.Body, dec: json.NewDecoder(resp.Body)}, nil
}

// LogStream reads the plain bytes of a log out of the agent's framed
// stream, skipping heartbeats.
type LogStream struct {
	body    io.ReadCloser
	dec     *json.Decoder
	pending []byte
	pos     int64
}

// streamFrame is one frame of the agent's stream; Offset is the stream
// position just after Data.
type streamFrame struct {
	Offset    int64  `json:",omitempty"`
	Data      []byte `json:",omitempty"`
	File      string `json:",omitempty"`
	FileEvent string `json:",omitempty"`
}

// Read reads log bytes; it returns io.EOF when the stream ends.
func (s *LogStream) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		var f streamFrame
		if err := s.dec.Decode(&f); err != nil {
			return 0, err
		}
		if len(f.Data) > 0 {
			s.pending = f.Data
			s.pos = f.Offset - int64(len(f.Data))
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	s.pos += int64(n)
	return n, nil
}

// Offset is the position in the whole log just after the last byte Read
// returned, for asking again from there with OriginStart.
func (s *LogStream) Offset() int64 { return s.pos }

// Close ends the stream.
func (s *LogStream) Close() error { return s.body.Close() }
