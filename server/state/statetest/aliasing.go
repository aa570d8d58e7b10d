// Package statetest helps tests of the state store and of what reads it:
// a check that reads return copies, and small fixtures.
package statetest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// RequireCopies proves that read returns copies: it reads once, changes
// every field it can reach in the result (through pointers, maps, slices
// and interfaces), reads again and fails the test if the second answer is
// not what the first was before the change. name labels failures.
//
// read must return a non-empty value: a nil result proves nothing, and is
// reported as a failure.
func RequireCopies(t testing.TB, name string, read func() (any, error)) {
	t.Helper()
	first, err := read()
	if err != nil {
		t.Fatalf("%s: read: %v", name, err)
	}
	if isNil(reflect.ValueOf(first)) {
		t.Fatalf("%s: read returned nothing to check", name)
	}
	before := Dump(first)
	Mutate(first)
	if Dump(first) == before {
		t.Fatalf("%s: the mutation changed nothing; the check proves nothing", name)
	}
	second, err := read()
	if err != nil {
		t.Fatalf("%s: second read: %v", name, err)
	}
	if after := Dump(second); after != before {
		t.Fatalf("%s: changing a returned object changed the store:\nbefore: %s\nafter:  %s", name, before, after)
	}
}

func isNil(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

var timeType = reflect.TypeOf(time.Time{})

// Mutate changes, in place, every settable value reachable from v: strings
// get a suffix, numbers grow, booleans flip, times move, and every map gets
// one more key. It follows pointers, so it changes whatever v shares.
func Mutate(v any) { mutate(reflect.ValueOf(v), 0) }

func mutate(v reflect.Value, depth int) {
	if !v.IsValid() || depth > 50 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			mutate(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		// The value inside an interface is not settable: change a copy and
		// put it back (pointers inside still reach the shared object).
		inner := reflect.New(v.Elem().Type()).Elem()
		inner.Set(v.Elem())
		mutate(inner, depth+1)
		v.Set(inner)
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				mutate(v.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			mutate(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		for _, k := range v.MapKeys() {
			elem := reflect.New(v.Type().Elem()).Elem()
			elem.Set(v.MapIndex(k))
			mutate(elem, depth+1)
			v.SetMapIndex(k, elem)
		}
		if v.Type().Key().Kind() == reflect.String {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString("statetest-added")
			v.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(v.String() + "-mutated")
		}
	case reflect.Bool:
		if v.CanSet() {
			v.SetBool(!v.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.CanSet() {
			v.SetInt(v.Int() + 1)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.CanSet() {
			v.SetUint(v.Uint() + 1)
		}
	case reflect.Float32, reflect.Float64:
		if v.CanSet() {
			v.SetFloat(v.Float() + 1)
		}
	}
}

// Dump renders v with everything it reaches (exported fields, map entries
// in key order), so two values compare by content rather than identity.
func Dump(v any) string {
	var b strings.Builder
	dump(&b, reflect.ValueOf(v), 0)
	return b.String()
}

func dump(b *strings.Builder, v reflect.Value, depth int) {
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	if depth > 50 {
		b.WriteString("…")
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		dump(b, v.Elem(), depth+1)
	case reflect.Struct:
		if v.Type() == timeType && v.CanInterface() {
			b.WriteString(v.Interface().(time.Time).Format(time.RFC3339Nano))
			return
		}
		b.WriteString("{")
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			b.WriteString(f.Name + ":")
			dump(b, v.Field(i), depth+1)
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			dump(b, v.Index(i), depth+1)
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.Map:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteString("map[")
		for _, k := range keys {
			fmt.Fprintf(b, "%v:", k)
			dump(b, v.MapIndex(k), depth+1)
			b.WriteString(" ")
		}
		b.WriteString("]")
	default:
		fmt.Fprintf(b, "%v", v)
	}
}
