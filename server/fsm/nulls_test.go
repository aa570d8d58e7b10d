package fsm

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestRejectNullElementsNamesThePath(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  any
		want string // "" for no error
	}{
		{"list", &AllocClientUpdateRequest{Allocs: []*structs.Allocation{{ID: "a"}, nil}}, ".Allocs[1] is null"},
		{"map", &AllocUpdateDesiredTransitionRequest{Allocs: map[string]*structs.DesiredTransition{"a1": nil}}, ".Allocs[a1] is null"},
		{"nested", &JobRegisterRequest{Job: &structs.Job{TaskGroups: []*structs.TaskGroup{{Name: "g", Tasks: []*structs.Task{nil}}}}},
			".Job.TaskGroups[0].Tasks[0] is null"},
		{"null in free-form config is fine", &JobRegisterRequest{Job: &structs.Job{TaskGroups: []*structs.TaskGroup{{Name: "g",
			Tasks: []*structs.Task{{Name: "t", Config: map[string]any{"x": nil, "l": []any{nil}}}}}}}}, ""},
		{"nil top-level pointers are fine", &JobRegisterRequest{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rejectNullElements(tc.req)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func BenchmarkRejectNullElementsJob(b *testing.B) {
	job := &structs.Job{ID: "j", TaskGroups: []*structs.TaskGroup{{Name: "g", Count: 3, Tasks: []*structs.Task{{
		Name: "t", Driver: "docker", Config: map[string]any{"image": "x", "args": []any{"a", "b"}},
		Env: map[string]string{"A": "1"}}}}}}
	req := &JobRegisterRequest{Job: job, Eval: &structs.Evaluation{ID: "e"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := rejectNullElements(req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNullPlansFindEveryNullElement puts a null, in turn, in each list or
// map of pointers reachable in every message type filled in every field,
// and checks that rejectNullElements names exactly that place, and that
// the filled values themselves pass.
func TestNullPlansFindEveryNullElement(t *testing.T) {
	checked := 0
	for typ, bt := range bodyTypes {
		req := reflect.New(bt)
		fill(req.Elem(), 0)
		if err := rejectNullElements(req.Interface()); err != nil {
			t.Fatalf("%s filled: %v", typ, err)
		}
		forEachPointerElement(req, "", 0, func(path string, clear func() func()) {
			checked++
			restore := clear()
			defer restore()
			err := rejectNullElements(req.Interface())
			if want := path + " is null"; err == nil || err.Error() != want {
				t.Errorf("%s with a null at %s: error %v, want %q", typ, path, err, want)
			}
		})
	}
	t.Logf("checked %d places", checked)
	if checked < 50 {
		t.Fatalf("only %d places checked: is the walk reaching the values?", checked)
	}
}

// forEachPointerElement calls fn with the path of each pointer element of a
// list or map reachable from v, and a function that sets it to nil and
// returns one that puts it back.
func forEachPointerElement(v reflect.Value, path string, depth int, fn func(path string, clear func() func())) {
	if depth > 20 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			forEachPointerElement(v.Elem(), path, depth+1, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Type != reflect.TypeFor[time.Time]() {
				forEachPointerElement(v.Field(i), path+"."+f.Name, depth+1, fn)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			e, p := v.Index(i), fmt.Sprintf("%s[%d]", path, i)
			if e.Kind() == reflect.Pointer && !e.IsNil() {
				fn(p, func() func() {
					old := e.Interface()
					e.SetZero()
					return func() { e.Set(reflect.ValueOf(old)) }
				})
			}
			forEachPointerElement(e, p, depth+1, fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e, p := v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)
			if e.Kind() == reflect.Pointer && !e.IsNil() {
				fn(p, func() func() {
					v.SetMapIndex(k, reflect.Zero(e.Type()))
					return func() { v.SetMapIndex(k, e) }
				})
			}
			forEachPointerElement(e, p, depth+1, fn)
		}
	}
}
