package structs

import "errors"

// Errors that the HTTP layer maps to status codes: a user's mistake is a
// 400 or a 404, never a 500.
var (
	ErrNotFound    = errors.New("not found")
	ErrBadRequest  = errors.New("bad request")
	ErrNoLeader    = errors.New("no cluster leader")
	ErrAmbiguousID = errors.New("ambiguous ID prefix")
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
