package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/yamux"
)

// Some values are too large to hold as one (a snapshot of the whole state).
// A handler returns a Streamer instead, and the caller reads the bytes with
// CallStream; the other way, CallWithBody sends a byte stream after the
// arguments, which the handler reads from Args.Body. On the wire the header
// (Stream or Body set) is followed by chunks, the last of which says
// whether the stream ended whole or with an error: a cut stream is never
// mistaken for a complete one.

// Streamer is a reply sent as a stream of bytes.
type Streamer interface {
	Stream(ctx context.Context, w io.Writer) error
}

// StreamFunc adapts a function to Streamer.
type StreamFunc func(ctx context.Context, w io.Writer) error

// Stream calls f.
func (f StreamFunc) Stream(ctx context.Context, w io.Writer) error { return f(ctx, w) }

// chunkSize is the most bytes one chunk carries.
const chunkSize = 64 << 10

type chunk struct {
	Data []byte
	// Done marks the last chunk; Error, when set, says the stream failed.
	Done  bool
	Kind  string
	Error string
}

// chunkWriter turns writes into chunks.
type chunkWriter struct{ w io.Writer }

func (c chunkWriter) Write(p []byte) (int, error) {
	if err := writeMsg(c.w, &chunk{Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sendStream writes s's bytes as chunks, then the closing chunk.
func sendStream(ctx context.Context, w io.Writer, s Streamer) error {
	buf := bufio.NewWriterSize(chunkWriter{w}, chunkSize)
	err := s.Stream(ctx, buf)
	if err == nil {
		err = buf.Flush()
	}
	last := &chunk{Done: true}
	if err != nil {
		last.Kind, last.Error = kindOf(err), err.Error()
	}
	return writeMsg(w, last)
}

// CallStream invokes a method whose reply is a Streamer and returns a
// reader of its bytes; the caller closes it. The reader returns the remote
// error, if the stream failed there, or ErrNoReply if the connection broke
// before the last chunk.
func (p *Pool) CallStream(ctx context.Context, addr, method string, args any) (io.ReadCloser, error) {
	body, err := marshalJSON(args)
	if err != nil {
		return nil, fmt.Errorf("rpc: encoding arguments of %s: %w", method, err)
	}
	_, stream, err := p.openStream(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	stop := context.AfterFunc(ctx, func() { stream.Close() })
	fail := func(err error) (io.ReadCloser, error) {
		stop()
		stream.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := writeMsg(stream, &request{Method: method, Args: body}); err != nil {
		return fail(fmt.Errorf("rpc: %s to %s: %w (%v)", method, addr, ErrNoReply, err))
	}
	var resp response
	if err := readMsg(stream, &resp); err != nil {
		return fail(fmt.Errorf("rpc: %s to %s: %w (%v)", method, addr, ErrNoReply, err))
	}
	if resp.Error != "" {
		return fail(remoteError(resp.Kind, resp.Error))
	}
	if !resp.Stream {
		return fail(fmt.Errorf("rpc: %s answered a value, not a stream", method))
	}
	return &streamReply{
		chunkReader: chunkReader{r: stream, what: method + " from " + addr, ctxErr: ctx.Err, lost: ErrNoReply},
		stream:      stream,
		stop:        stop,
	}, nil
}

// chunkReader reads the bytes of a chunked stream.
type chunkReader struct {
	r    io.Reader
	what string
	// ctxErr, when set, says why a read failed if the reader gave up.
	ctxErr func() error
	// onDone, when set, runs once the last chunk has been read.
	onDone func()
	// lost is the error of a stream cut before its last chunk.
	lost error
	buf  []byte
	err  error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 && r.err == nil {
		var c chunk
		if err := readMsg(r.r, &c); err != nil {
			r.err = fmt.Errorf("rpc: stream %s: %w (%v)", r.what, r.lost, err)
			if r.ctxErr != nil && r.ctxErr() != nil {
				r.err = r.ctxErr()
			}
			break
		}
		r.buf = c.Data
		if c.Done {
			r.err = io.EOF
			if c.Error != "" {
				r.err = remoteError(c.Kind, c.Error)
			}
			if r.onDone != nil {
				r.onDone()
			}
		}
	}
	if len(r.buf) > 0 {
		n := copy(p, r.buf)
		r.buf = r.buf[n:]
		return n, nil
	}
	return 0, r.err
}

// streamReply is CallStream's reader: closing it ends the call.
type streamReply struct {
	chunkReader
	stream *yamux.Stream
	stop   func() bool
}

func (r *streamReply) Close() error {
	r.stop()
	err := r.stream.Close()
	if errors.Is(err, yamux.ErrStreamClosed) {
		return nil
	}
	return err
}
