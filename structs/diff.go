package structs

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Diff types, as Nomad's.
const (
	DiffTypeNone    = "None"
	DiffTypeAdded   = "Added"
	DiffTypeDeleted = "Deleted"
	DiffTypeEdited  = "Edited"
)

// Annotations on diffs, as `job plan` prints them.
const (
	AnnotationForcesCreate            = "forces create"
	AnnotationForcesDestroy           = "forces destroy"
	AnnotationForcesInplaceUpdate     = "forces in-place update"
	AnnotationForcesDestructiveUpdate = "forces create/destroy update"
)

// JobDiff is the difference between two versions of a job.
type JobDiff struct {
	Type       string
	ID         string
	Fields     []*FieldDiff
	Objects    []*ObjectDiff
	TaskGroups []*TaskGroupDiff
}

// TaskGroupDiff is the difference of one group. Updates counts, per kind
// of update ("create", "destroy", "in-place update", ...), what a plan
// would do to the group's allocations.
type TaskGroupDiff struct {
	Type    string
	Name    string
	Fields  []*FieldDiff
	Objects []*ObjectDiff
	Tasks   []*TaskDiff
	Updates map[string]uint64
}

// TaskDiff is the difference of one task.
type TaskDiff struct {
	Type        string
	Name        string
	Fields      []*FieldDiff
	Objects     []*ObjectDiff
	Annotations []string
}

// FieldDiff is the difference of one value.
type FieldDiff struct {
	Type        string
	Name        string
	Old, New    string
	Annotations []string
}

// ObjectDiff is the difference of a nested object (a restart policy, a
// constraint, a task's config).
type ObjectDiff struct {
	Type    string
	Name    string
	Fields  []*FieldDiff
	Objects []*ObjectDiff
}

// Fields of the job, groups and tasks that a diff leaves out: the names
// that identify them, their children (diffed on their own), and what the
// servers fill in.
var (
	jobDiffSkip = map[string]bool{"ID": true, "TaskGroups": true, "Status": true, "StatusDescription": true,
		"Stable": true, "Version": true, "SubmitTime": true, "CreateIndex": true, "ModifyIndex": true, "JobModifyIndex": true}
	groupDiffSkip = map[string]bool{"Name": true, "Tasks": true}
	taskDiffSkip  = map[string]bool{"Name": true}
)

// Diff compares the job (the old version, nil for a new job) with other
// (the new version, nil when it is deleted). contextual keeps unchanged
// fields and objects too (as DiffTypeNone), to print them around changes.
func (j *Job) Diff(other *Job, contextual bool) *JobDiff {
	d := &JobDiff{}
	switch {
	case j == nil && other == nil:
		d.Type = DiffTypeNone
		return d
	case j == nil:
		d.ID = other.ID
	default:
		d.ID = j.ID
	}
	d.Fields, d.Objects = diffStruct(valueOf(j), valueOf(other), jobDiffSkip, contextual || j == nil || other == nil)

	var oldGroups, newGroups []*TaskGroup
	if j != nil {
		oldGroups = j.TaskGroups
	}
	if other != nil {
		newGroups = other.TaskGroups
	}
	for _, name := range unionNames(oldGroups, newGroups, func(tg *TaskGroup) string { return tg.Name }) {
		gd := diffGroup(findNamed(oldGroups, name, func(tg *TaskGroup) string { return tg.Name }),
			findNamed(newGroups, name, func(tg *TaskGroup) string { return tg.Name }), contextual)
		if gd.Type != DiffTypeNone || contextual {
			d.TaskGroups = append(d.TaskGroups, gd)
		}
	}
	d.Type = diffTypeOf(j == nil, other == nil, len(changedFields(d.Fields))+len(changedObjects(d.Objects))+len(changedGroups(d.TaskGroups)) > 0)
	return d
}

func diffGroup(old, new *TaskGroup, contextual bool) *TaskGroupDiff {
	d := &TaskGroupDiff{}
	if old != nil {
		d.Name = old.Name
	} else {
		d.Name = new.Name
	}
	whole := contextual || old == nil || new == nil
	d.Fields, d.Objects = diffStruct(valueOf(old), valueOf(new), groupDiffSkip, whole)
	var oldTasks, newTasks []*Task
	if old != nil {
		oldTasks = old.Tasks
	}
	if new != nil {
		newTasks = new.Tasks
	}
	changedTasks := 0
	for _, name := range unionNames(oldTasks, newTasks, func(t *Task) string { return t.Name }) {
		ot := findNamed(oldTasks, name, func(t *Task) string { return t.Name })
		nt := findNamed(newTasks, name, func(t *Task) string { return t.Name })
		td := &TaskDiff{Name: name}
		td.Fields, td.Objects = diffStruct(valueOf(ot), valueOf(nt), taskDiffSkip, contextual || ot == nil || nt == nil)
		td.Type = diffTypeOf(ot == nil, nt == nil, len(changedFields(td.Fields))+len(changedObjects(td.Objects)) > 0)
		if td.Type != DiffTypeNone {
			changedTasks++
		}
		// Unchanged tasks are listed by name, as Nomad's plan does.
		d.Tasks = append(d.Tasks, td)
	}
	d.Type = diffTypeOf(old == nil, new == nil, len(changedFields(d.Fields))+len(changedObjects(d.Objects))+changedTasks > 0)
	return d
}

func diffTypeOf(added, deleted, changed bool) string {
	switch {
	case added:
		return DiffTypeAdded
	case deleted:
		return DiffTypeDeleted
	case changed:
		return DiffTypeEdited
	}
	return DiffTypeNone
}

// diffStruct compares two structs (either may be invalid: absent) field by
// field. Scalars, string lists and string maps become fields ("Meta[a]");
// nested structs, lists of structs and free-form maps become objects.
func diffStruct(old, new reflect.Value, skip map[string]bool, contextual bool) ([]*FieldDiff, []*ObjectDiff) {
	var t reflect.Type
	if old.IsValid() {
		t = old.Type()
	} else {
		t = new.Type()
	}
	var fields []*FieldDiff
	var objects []*ObjectDiff
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || skip[f.Name] || f.Tag.Get("json") == "-" {
			continue
		}
		ov, nv := fieldOf(old, i), fieldOf(new, i)
		switch {
		case isScalarish(f.Type):
			fields = append(fields, diffFlat(flatten(f.Name, ov), flatten(f.Name, nv), contextual)...)
		case f.Type.Kind() == reflect.Map: // free-form values, such as a task's config
			if o := diffObject(f.Name, ov, nv, contextual); o != nil {
				objects = append(objects, o)
			}
		case f.Type.Kind() == reflect.Slice:
			objects = append(objects, diffObjectList(ov, nv, contextual)...)
		default:
			if o := diffObject(f.Name, ov, nv, contextual); o != nil {
				objects = append(objects, o)
			}
		}
	}
	if !contextual {
		fields, objects = changedFields(fields), changedObjects(objects)
	}
	// Sorted by name, as Nomad prints them; stable keeps list elements in order.
	slices.SortStableFunc(fields, func(a, b *FieldDiff) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(objects, func(a, b *ObjectDiff) int { return strings.Compare(a.Name, b.Name) })
	return fields, objects
}

// diffObject compares one nested object; nil when both are absent, or
// when nothing changed and contextual is false.
func diffObject(name string, old, new reflect.Value, contextual bool) *ObjectDiff {
	old, new = deref(old), deref(new)
	if isEmpty(old) && isEmpty(new) {
		return nil
	}
	o := &ObjectDiff{Name: name}
	whole := contextual || isEmpty(old) || isEmpty(new)
	if (old.IsValid() && old.Kind() == reflect.Map) || (new.IsValid() && new.Kind() == reflect.Map) {
		o.Fields = diffFlat(flatten("", old), flatten("", new), whole)
	} else {
		o.Fields, o.Objects = diffStruct(old, new, nil, whole)
	}
	o.Type = diffTypeOf(isEmpty(old), isEmpty(new), len(changedFields(o.Fields))+len(changedObjects(o.Objects)) > 0)
	if o.Type == DiffTypeNone && !contextual {
		return nil
	}
	return o
}

// diffObjectList compares two lists of objects (constraints, ports, ...)
// as sets: equal elements pair up unchanged, the rest are deleted or added.
func diffObjectList(old, new reflect.Value, contextual bool) []*ObjectDiff {
	name := ""
	var olds, news []reflect.Value
	for _, pair := range []struct {
		v   reflect.Value
		out *[]reflect.Value
	}{{old, &olds}, {new, &news}} {
		if !pair.v.IsValid() {
			continue
		}
		elem := pair.v.Type().Elem()
		if elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		name = elem.Name()
		for i := range pair.v.Len() {
			if e := deref(pair.v.Index(i)); e.IsValid() {
				*pair.out = append(*pair.out, e)
			}
		}
	}
	var out []*ObjectDiff
	used := make([]bool, len(news))
	for _, o := range olds {
		match := -1
		for j, n := range news {
			if !used[j] && reflect.DeepEqual(o.Interface(), n.Interface()) {
				match = j
				break
			}
		}
		if match >= 0 {
			used[match] = true
			if contextual {
				out = append(out, diffObject(name, o, news[match], true))
			}
			continue
		}
		out = append(out, diffObject(name, o, reflect.Value{}, contextual))
	}
	for j, n := range news {
		if !used[j] {
			out = append(out, diffObject(name, reflect.Value{}, n, contextual))
		}
	}
	return slices.DeleteFunc(out, func(o *ObjectDiff) bool { return o == nil })
}

// diffFlat compares two flattened values, in name order.
func diffFlat(old, new map[string]string, contextual bool) []*FieldDiff {
	var names []string
	for k := range old {
		names = append(names, k)
	}
	for k := range new {
		if _, ok := old[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []*FieldDiff
	for _, name := range names {
		o, inOld := old[name]
		n, inNew := new[name]
		f := &FieldDiff{Name: name, Old: o, New: n}
		switch {
		case !inOld:
			f.Type = DiffTypeAdded
		case !inNew:
			f.Type = DiffTypeDeleted
		case o != n:
			f.Type = DiffTypeEdited
		default:
			f.Type = DiffTypeNone
			if !contextual {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// flatten turns a scalar, list or map into name → text pairs:
// "Count" → "3", "Datacenters[0]" → "dc1", "Meta[team]" → "a",
// "args[1]" → "-v", "mount[0].type" → "bind".
func flatten(name string, v reflect.Value) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		v = deref(v)
		if !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Map:
			for _, k := range v.MapKeys() {
				key := fmt.Sprint(k.Interface())
				if prefix == "" {
					walk(key, v.MapIndex(k))
				} else if v.Type().Elem().Kind() == reflect.String {
					walk(prefix+"["+key+"]", v.MapIndex(k))
				} else {
					walk(prefix+"."+key, v.MapIndex(k))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(prefix+"["+strconv.Itoa(i)+"]", v.Index(i))
			}
		case reflect.Struct:
			t := v.Type()
			for i := range t.NumField() {
				if t.Field(i).IsExported() {
					walk(prefix+"."+t.Field(i).Name, v.Field(i))
				}
			}
		default:
			out[prefix] = scalarText(v)
		}
	}
	walk(name, v)
	return out
}

func scalarText(v reflect.Value) string {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// isScalarish reports whether a field's type diffs as fields: scalars,
// and lists and maps of scalars.
func isScalarish(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return isScalar(t.Elem())
	case reflect.Map:
		return t.Key().Kind() == reflect.String && isScalar(t.Elem())
	}
	return isScalar(t)
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func valueOf[T any](p *T) reflect.Value {
	if p == nil {
		return reflect.Value{}
	}
	return reflect.ValueOf(p).Elem()
}

func fieldOf(v reflect.Value, i int) reflect.Value {
	if !v.IsValid() {
		return reflect.Value{}
	}
	return v.Field(i)
}

func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// isEmpty treats an absent object and an empty map alike.
func isEmpty(v reflect.Value) bool {
	return !v.IsValid() || (v.Kind() == reflect.Map && v.Len() == 0)
}

func changedFields(fs []*FieldDiff) []*FieldDiff {
	return slices.DeleteFunc(slices.Clone(fs), func(f *FieldDiff) bool { return f.Type == DiffTypeNone })
}

func changedObjects(os []*ObjectDiff) []*ObjectDiff {
	return slices.DeleteFunc(slices.Clone(os), func(o *ObjectDiff) bool { return o.Type == DiffTypeNone })
}

func changedGroups(gs []*TaskGroupDiff) []*TaskGroupDiff {
	return slices.DeleteFunc(slices.Clone(gs), func(g *TaskGroupDiff) bool { return g.Type == DiffTypeNone })
}

// unionNames lists the names of old's elements, then those only in new.
func unionNames[T any](old, new []T, name func(T) string) []string {
	var out []string
	for _, e := range old {
		out = append(out, name(e))
	}
	for _, e := range new {
		if !slices.Contains(out, name(e)) {
			out = append(out, name(e))
		}
	}
	return out
}

func findNamed[T any](list []*T, n string, name func(*T) string) *T {
	for _, e := range list {
		if name(e) == n {
			return e
		}
	}
	return nil
}
