package backendtest

import (
	"context"
	"fmt"
	"io"
	"sync"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/structs"
)

// Client is an in-memory client whose task logs are LogBuffers, keyed by
// LogKey. Fill Logs before the first request.
type Client struct {
	Logs map[string]*LogBuffer
}

// LogKey names one log of one task.
func LogKey(allocID, task, logType string) string {
	return allocID + "/" + task + "/" + logType
}

// LogReader opens the buffer; a missing one is ErrNotFound.
func (c *Client) LogReader(allocID, task, logType string) (agenthttp.LogReader, error) {
	b, ok := c.Logs[LogKey(allocID, task, logType)]
	if !ok {
		return nil, structs.NotFound(fmt.Errorf("no %s log of task %q in allocation %q", logType, task, allocID))
	}
	return b, nil
}

// LogBuffer is a growing log a test writes to while a reader follows it.
type LogBuffer struct {
	mu       sync.Mutex
	data     []byte
	finished bool
	changed  chan struct{} // closed and replaced on every change
	readers  int
}

// The fakes implement what the HTTP API needs.
var (
	_ agenthttp.Server = (*Server)(nil)
	_ agenthttp.Client = (*Client)(nil)
	_ agenthttp.Agent  = Agent(nil)
)

// NewLogBuffer returns a buffer holding content.
func NewLogBuffer(content string) *LogBuffer {
	return &LogBuffer{data: []byte(content), changed: make(chan struct{})}
}

// Write appends to the log.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, p...)
	b.notify()
	return len(p), nil
}

// Finish marks the task finished for good: followers end once they have read all.
func (b *LogBuffer) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finished = true
	b.notify()
}

// Waiting reports how many readers are blocked in Wait, so a test can
// write only once a follower is parked.
func (b *LogBuffer) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readers
}

func (b *LogBuffer) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *LogBuffer) Size() (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int64(len(b.data)), nil
}

func (b *LogBuffer) ReadAt(p []byte, off int64) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (b *LogBuffer) Wait(ctx context.Context, size int64) error {
	for {
		b.mu.Lock()
		if int64(len(b.data)) > size {
			b.mu.Unlock()
			return nil
		}
		if b.finished {
			b.mu.Unlock()
			return io.EOF
		}
		ch := b.changed
		b.readers++
		b.mu.Unlock()

		select {
		case <-ch:
		case <-ctx.Done():
		}
		b.mu.Lock()
		b.readers--
		b.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Close does nothing: the buffer outlives its readers.
func (b *LogBuffer) Close() error { return nil }

// Agent answers /v1/agent/self with its own content.
type Agent map[string]any

func (a Agent) Self() map[string]any { return a }
