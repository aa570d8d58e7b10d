package fsm

import (
	"fmt"
	"reflect"
	"sync"
)

// rejectNullElements fails on a null inside a list or map of objects
// ("Allocs": [null]). Such an entry is malformed, and the domain types'
// Copy methods assume list and map elements exist. Null values in a task's
// JSON-shaped config are fine: those are not objects.
//
// Every entry goes through it on every server, so it only walks the parts
// of a value whose type can hold such an element (mayHoldNullElement), and
// spells the path to a null only once it found one.
func rejectNullElements(v any) error {
	if err := walkNulls(reflect.ValueOf(v), 0); err != nil {
		return fmt.Errorf("%s is null", err.path())
	}
	return nil
}

// nullElement is where walkNulls found a null: the path's segments,
// innermost first (".Allocs", "[0]" is stored as "[0]", ".Allocs").
type nullElement struct{ segments []string }

func (n *nullElement) path() string {
	var s string
	for i := len(n.segments) - 1; i >= 0; i-- {
		s += n.segments[i]
	}
	return s
}

func (n *nullElement) in(segment string) *nullElement {
	n.segments = append(n.segments, segment)
	return n
}

func walkNulls(v reflect.Value, depth int) *nullElement {
	if depth > 100 {
		return nil // nothing here nests that deep, except free-form config
	}
	if !v.IsValid() || !mayHoldNullElement(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return walkNulls(v.Elem(), depth+1)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() {
				if err := walkNulls(v.Field(i), depth+1); err != nil {
					return err.in("." + f.Name)
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return (&nullElement{}).in(fmt.Sprintf("[%d]", i))
			}
			if err := walkNulls(e, depth+1); err != nil {
				return err.in(fmt.Sprintf("[%d]", i))
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := iter.Value()
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return (&nullElement{}).in(fmt.Sprintf("[%v]", iter.Key()))
			}
			if err := walkNulls(e, depth+1); err != nil {
				return err.in(fmt.Sprintf("[%v]", iter.Key()))
			}
		}
	}
	return nil
}

// mayHold caches mayHoldNullElement per type.
var mayHold sync.Map // reflect.Type → bool

// mayHoldNullElement reports whether a value of type t can hold, at any
// depth that walkNulls reaches, a list or map whose elements are pointers:
// the only place a null element can be. Strings, numbers, []string,
// map[string]string and free-form values (interfaces) cannot.
func mayHoldNullElement(t reflect.Type) bool {
	if v, ok := mayHold.Load(t); ok {
		return v.(bool)
	}
	r := computeMayHold(t, map[reflect.Type]bool{})
	mayHold.Store(t, r)
	return r
}

func computeMayHold(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if visiting[t] {
		return true // a recursive type: assume it may, to be safe
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Pointer:
		return computeMayHold(t.Elem(), visiting)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && computeMayHold(f.Type, visiting) {
				return true
			}
		}
	case reflect.Slice, reflect.Array, reflect.Map:
		return t.Elem().Kind() == reflect.Pointer || computeMayHold(t.Elem(), visiting)
	}
	return false
}
