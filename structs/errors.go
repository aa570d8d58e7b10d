package structs

import "errors"

// Errors that the HTTP layer maps to status codes: a user's mistake is a
// 400 or a 404, never a 500.
var (
	ErrNotFound   = errors.New("not found")
	ErrBadRequest = errors.New("bad request")
	// ErrNoLeader reads exactly as Nomad's, which clients match on.
	ErrNoLeader    = errors.New("No cluster leader")
	ErrAmbiguousID = errors.New("ambiguous ID prefix")
	// ErrOutcomeUnknown: a write reached the leader but no answer came
	// back (leadership lost, connection cut): it may or may not be applied.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// BadRequest wraps err so that errors.Is(err, ErrBadRequest) holds.
func BadRequest(err error) error {
	if err == nil {
		return nil
	}
	return &wrapped{kind: ErrBadRequest, err: err}
}

// NotFound wraps err so that errors.Is(err, ErrNotFound) holds.
func NotFound(err error) error {
	if err == nil {
		return nil
	}
	return &wrapped{kind: ErrNotFound, err: err}
}

type wrapped struct {
	kind error
	err  error
}

func (w *wrapped) Error() string   { return w.err.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.kind, w.err} }
