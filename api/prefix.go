package api

import (
	"fmt"
	"strings"

	"github.com/drover-project/drover/structs"
)

// NoMatchError says no object's ID starts with the prefix.
type NoMatchError struct {
	Kind   string // "job", "allocation", "evaluation", "node"
	Prefix string
}

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("No %s(s) with prefix or id %q found", e.Kind, e.Prefix)
}

func (e *NoMatchError) Unwrap() error { return structs.ErrNotFound }

// AmbiguousError says several objects' IDs start with the prefix.
type AmbiguousError struct {
	Kind    string
	Prefix  string
	Matches []string // the matching IDs
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("Prefix %q matched multiple %ss, give more of the ID:\n  %s",
		e.Prefix, e.Kind, strings.Join(e.Matches, "\n  "))
}

func (e *AmbiguousError) Unwrap() error { return structs.ErrAmbiguousID }

// ResolvePrefix picks the one item whose ID is prefix or starts with it. An
// exact match wins over longer IDs that share it. Items are filtered here
// too, so a list that ignored the prefix still resolves correctly.
func ResolvePrefix[T any](kind, prefix string, items []T, id func(T) string) (T, error) {
	var zero T
	if prefix == "" {
		return zero, &NoMatchError{Kind: kind, Prefix: prefix}
	}
	var matches []T
	for _, item := range items {
		switch {
		case id(item) == prefix:
			return item, nil
		case strings.HasPrefix(id(item), prefix):
			matches = append(matches, item)
		}
	}
	switch len(matches) {
	case 0:
		return zero, &NoMatchError{Kind: kind, Prefix: prefix}
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = id(m)
	}
	return zero, &AmbiguousError{Kind: kind, Prefix: prefix, Matches: ids}
}

// Resolve finds the job whose ID is or starts with prefix.
func (j *Jobs) Resolve(prefix string, q *QueryOptions) (*structs.JobListStub, error) {
	list, _, err := j.List(withPrefix(q, prefix))
	if err != nil {
		return nil, err
	}
	return ResolvePrefix("job", prefix, list, func(s *structs.JobListStub) string { return s.ID })
}

// Resolve finds the allocation whose ID is or starts with prefix.
func (a *Allocations) Resolve(prefix string, q *QueryOptions) (*structs.AllocListStub, error) {
	list, _, err := a.List(withPrefix(q, prefix))
	if err != nil {
		return nil, err
	}
	return ResolvePrefix("allocation", prefix, list, func(s *structs.AllocListStub) string { return s.ID })
}

// Resolve finds the evaluation whose ID is or starts with prefix.
func (e *Evaluations) Resolve(prefix string, q *QueryOptions) (*structs.Evaluation, error) {
	list, _, err := e.List(withPrefix(q, prefix))
	if err != nil {
		return nil, err
	}
	return ResolvePrefix("evaluation", prefix, list, func(s *structs.Evaluation) string { return s.ID })
}

// Resolve finds the node whose ID is or starts with prefix.
func (n *Nodes) Resolve(prefix string, q *QueryOptions) (*structs.NodeListStub, error) {
	list, _, err := n.List(withPrefix(q, prefix))
	if err != nil {
		return nil, err
	}
	return ResolvePrefix("node", prefix, list, func(s *structs.NodeListStub) string { return s.ID })
}

func withPrefix(q *QueryOptions, prefix string) *QueryOptions {
	c := QueryOptions{}
	if q != nil {
		c = *q
	}
	c.Prefix = prefix
	return &c
}
