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
// Every entry goes through it on every server, so it follows a plan made
// once per type (nullPlanFor) that visits only the parts of a value whose
// type can hold such an element, and spells the path to a null only once
// it found one.
func rejectNullElements(v any) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil
	}
	p := nullPlanFor(rv.Type())
	if p == nil {
		return nil
	}
	if err := p.walk(rv, 0); err != nil {
		return fmt.Errorf("%s is null", err.path())
	}
	return nil
}

// nullElement is where a walk found a null: the path's segments,
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

// nullPlan is how to look for null elements in values of one type that
// can hold them: a list or map whose elements are pointers, at any depth.
// Strings, numbers, []string, map[string]string and free-form values
// (interfaces) cannot, so no plan visits them.
type nullPlan struct {
	kind reflect.Kind
	// fields of a struct that can hold a null element, in order.
	fields []nullField
	// elem is the plan of a pointer's target or of the elements of a list
	// or map, nil when they cannot hold a null element themselves.
	elem *nullPlan
	// elemIsPointer says that each element of a list or map must be set.
	elemIsPointer bool
}

type nullField struct {
	index int
	name  string
	plan  *nullPlan
}

// maxNullDepth bounds a walk: nothing here nests that deep, except
// free-form config, which holds no objects.
const maxNullDepth = 100

func (p *nullPlan) walk(v reflect.Value, depth int) *nullElement {
	if depth > maxNullDepth {
		return nil
	}
	switch p.kind {
	case reflect.Pointer:
		if !v.IsNil() && p.elem != nil {
			return p.elem.walk(v.Elem(), depth+1)
		}
	case reflect.Struct:
		for _, f := range p.fields {
			if err := f.plan.walk(v.Field(f.index), depth+1); err != nil {
				return err.in("." + f.name)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			e := v.Index(i)
			if p.elemIsPointer && e.IsNil() {
				return (&nullElement{}).in(fmt.Sprintf("[%d]", i))
			}
			if p.elem != nil {
				if err := p.elem.walk(e, depth+1); err != nil {
					return err.in(fmt.Sprintf("[%d]", i))
				}
			}
		}
	case reflect.Map:
		if v.Len() == 0 {
			return nil
		}
		iter := v.MapRange()
		for iter.Next() {
			e := iter.Value()
			if p.elemIsPointer && e.IsNil() {
				return (&nullElement{}).in(fmt.Sprintf("[%v]", iter.Key()))
			}
			if p.elem != nil {
				if err := p.elem.walk(e, depth+1); err != nil {
					return err.in(fmt.Sprintf("[%v]", iter.Key()))
				}
			}
		}
	}
	return nil
}

// nullPlans caches nullPlanFor per type.
var nullPlans sync.Map // reflect.Type → *nullPlan (nil when it cannot hold one)

// nullPlanFor returns the plan for values of type t, or nil when they
// cannot hold a null element.
func nullPlanFor(t reflect.Type) *nullPlan {
	if p, ok := nullPlans.Load(t); ok {
		return p.(*nullPlan)
	}
	p := buildNullPlan(t, map[reflect.Type]*nullPlan{})
	nullPlans.Store(t, p)
	return p
}

// buildNullPlan makes the plan of t. building holds the plans under
// construction: a recursive type refers to its own plan, and so counts as
// able to hold a null element, to be safe.
func buildNullPlan(t reflect.Type, building map[reflect.Type]*nullPlan) *nullPlan {
	if p, ok := building[t]; ok {
		return p
	}
	p := &nullPlan{kind: t.Kind()}
	building[t] = p
	defer delete(building, t)
	switch t.Kind() {
	case reflect.Pointer:
		if p.elem = buildNullPlan(t.Elem(), building); p.elem == nil {
			return nil
		}
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if fp := buildNullPlan(f.Type, building); fp != nil {
				p.fields = append(p.fields, nullField{index: i, name: f.Name, plan: fp})
			}
		}
		if len(p.fields) == 0 {
			return nil
		}
	case reflect.Slice, reflect.Array, reflect.Map:
		p.elemIsPointer = t.Elem().Kind() == reflect.Pointer
		p.elem = buildNullPlan(t.Elem(), building)
		if !p.elemIsPointer && p.elem == nil {
			return nil
		}
	default:
		return nil
	}
	return p
}
