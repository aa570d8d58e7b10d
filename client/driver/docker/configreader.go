package docker

import (
	"fmt"
	"maps"
	"strconv"
)

// configReader reads typed values out of a decoded driver config (the
// JSON shapes: string, bool, float64, []any, map[string]any, and blocks as
// lists of maps), collecting every type error instead of stopping at the
// first.
type configReader struct {
	m      map[string]any
	prefix string // names the enclosing block in messages
	errs   []error
}

func (r *configReader) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf(r.prefix+format, args...))
}

// scalar renders a string, number or bool as text.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func (r *configReader) str(key string) string {
	v, ok := r.m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := scalar(v)
	if !ok {
		r.fail("%s must be a string, got %T", key, v)
	}
	return s
}

func (r *configReader) boolean(key string) bool {
	v, ok := r.m[key]
	if !ok || v == nil {
		return false
	}
	switch v := v.(type) {
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	r.fail("%s must be true or false, got %v", key, v)
	return false
}

func (r *configReader) list(key string) []string {
	v, ok := r.m[key]
	if !ok || v == nil {
		return nil
	}
	var items []any
	switch v := v.(type) {
	case []any:
		items = v
	case []string:
		return append([]string(nil), v...)
	default:
		r.fail("%s must be a list of strings, got %T", key, v)
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, ok := scalar(item)
		if !ok {
			r.fail("%s[%d] must be a string, got %T", key, i, item)
			continue
		}
		out = append(out, s)
	}
	return out
}

// blocks returns the maps of a block (written once or repeated) or of an
// object attribute.
func (r *configReader) blocks(key string) []map[string]any {
	v, ok := r.m[key]
	if !ok || v == nil {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, item := range v {
			m, ok := item.(map[string]any)
			if !ok {
				r.fail("%s must be a block or a list of objects, got a list of %T", key, item)
				return nil
			}
			out = append(out, m)
		}
		return out
	}
	r.fail("%s must be a block, got %T", key, v)
	return nil
}

// strMap reads a map of strings, written as an object or a block.
func (r *configReader) strMap(key string) map[string]string {
	blocks := r.blocks(key)
	if blocks == nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range blocks {
		for k, v := range maps.All(m) {
			s, ok := scalar(v)
			if !ok {
				r.fail("%s.%s must be a string, got %T", key, k, v)
				continue
			}
			out[k] = s
		}
	}
	return out
}
