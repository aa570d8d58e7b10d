package fsm

import (
	"fmt"
	"reflect"
)

// rejectNullElements fails on a null inside a list or map of objects
// ("Allocs": [null]). Such an entry is malformed, and the domain types'
// Copy methods assume list and map elements exist. Null values in a task's
// JSON-shaped config are fine: those are not objects.
func rejectNullElements(v any) error {
	return walkNulls(reflect.ValueOf(v), "", 0)
}

func walkNulls(v reflect.Value, path string, depth int) error {
	if depth > 100 {
		return nil // nothing here nests that deep, except free-form config
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return walkNulls(v.Elem(), path, depth+1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.IsExported() {
				if err := walkNulls(v.Field(i), path+"."+f.Name, depth+1); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return fmt.Errorf("%s[%d] is null", path, i)
			}
			if err := walkNulls(e, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := iter.Value()
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return fmt.Errorf("%s[%v] is null", path, iter.Key())
			}
			if err := walkNulls(e, fmt.Sprintf("%s[%v]", path, iter.Key()), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
