package jobspec

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// decoder evaluates attributes into Go values and collects every problem
// on the way, so one pass over a file reports all of them.
type decoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

// eval evaluates an expression after keeping its runtime references
// literal. ok is false when the value is unusable: an error (already
// reported) or an unknown value left by an earlier error.
func (d *decoder) eval(expr hcl.Expression) (cty.Value, bool) {
	if diags := keepRuntimeRefs(expr); diags.HasErrors() {
		d.diags = append(d.diags, diags...)
		return cty.DynamicVal, false
	}
	if !d.referencesDefined(expr) {
		return cty.DynamicVal, false
	}
	val, diags := expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return cty.DynamicVal, false
	}
	val, _ = val.UnmarkDeep()
	return val, true
}

// referencesDefined reports references to variables and locals that do
// not exist, with a clearer message than hcl's "object has no attribute".
func (d *decoder) referencesDefined(expr hcl.Expression) bool {
	if d.ctx == nil {
		return true // constants only; hcl reports any reference
	}
	ok := true
	for _, t := range expr.Variables() {
		root := t.RootName()
		if !parsedRoots[root] || len(t) < 2 {
			continue
		}
		step, isAttr := t[1].(hcl.TraverseAttr)
		if !isAttr || d.ctx.Variables[root].Type().HasAttribute(step.Name) {
			continue
		}
		ok = false
		if root == "var" {
			d.diags = append(d.diags, errorAt(t.SourceRange(), "Undeclared variable",
				"No variable named %q is declared; add a variable %q {} block.", step.Name, step.Name))
		} else {
			d.diags = append(d.diags, errorAt(t.SourceRange(), "Undefined local value",
				"No local value named %q is defined in a locals block.", step.Name))
		}
	}
	return ok
}

// value evaluates an attribute and converts it to ty. A null value counts
// as absent (ok false, nothing reported), as in Nomad.
func (d *decoder) value(attr *hcl.Attribute, ty cty.Type, want string) (cty.Value, bool) {
	val, ok := d.eval(attr.Expr)
	if !ok || val.IsNull() {
		return val, false
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: %s required.", attr.Name, want))
		return val, false
	}
	return conv, true
}

// setString stores a string attribute into dst when it is present.
func (d *decoder) setString(attrs hcl.Attributes, name string, dst *string) {
	if attr := attrs[name]; attr != nil {
		if val, ok := d.value(attr, cty.String, "string"); ok {
			*dst = val.AsString()
		}
	}
}

// setBool stores a bool attribute into dst when it is present.
func (d *decoder) setBool(attrs hcl.Attributes, name string, dst *bool) {
	if attr := attrs[name]; attr != nil {
		if val, ok := d.value(attr, cty.Bool, "bool"); ok {
			*dst = val.True()
		}
	}
}

// setInt stores a whole-number attribute into dst when it is present, and
// reports whether it did.
func (d *decoder) setInt(attrs hcl.Attributes, name string, dst *int) bool {
	attr := attrs[name]
	if attr == nil {
		return false
	}
	val, ok := d.value(attr, cty.Number, "number")
	if !ok {
		return false
	}
	n, acc := val.AsBigFloat().Int64()
	if acc != big.Exact || n < math.MinInt32 || n > math.MaxInt32 {
		d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Invalid number",
			"Attribute %q must be a whole number between %d and %d, got %s.",
			name, math.MinInt32, math.MaxInt32, val.AsBigFloat().Text('g', 10)))
		return false
	}
	*dst = int(n)
	return true
}

// setDuration stores a duration written as a Go duration string ("30s",
// "5m") into dst when it is present.
func (d *decoder) setDuration(attrs hcl.Attributes, name string, dst *time.Duration) {
	attr := attrs[name]
	if attr == nil {
		return
	}
	val, ok := d.value(attr, cty.String, `duration string such as "30s"`)
	if !ok {
		return
	}
	dur, err := time.ParseDuration(val.AsString())
	if err != nil {
		d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Invalid duration",
			`Attribute %q: %v. Write a duration such as "30s", "5m" or "1h30m".`, name, err))
		return
	}
	*dst = dur
}

// setStrings stores a list-of-strings attribute into dst when it is present.
func (d *decoder) setStrings(attrs hcl.Attributes, name string, dst *[]string) {
	attr := attrs[name]
	if attr == nil {
		return
	}
	val, ok := d.value(attr, cty.List(cty.String), "list of string")
	if !ok {
		return
	}
	out := []string{}
	for _, v := range val.AsValueSlice() {
		if v.IsNull() {
			d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Invalid list element",
				"Attribute %q must not contain null.", name))
			return
		}
		out = append(out, v.AsString())
	}
	*dst = out
}

// stringMap decodes a map of strings that may be written either as a block
// (meta { a = "b" }) or as an attribute (meta = { "a.b" = "c" }), the second
// form allowing keys that are not identifiers. Numbers and bools are turned
// into their string form, as Nomad does. It returns nil when neither is given.
func (d *decoder) stringMap(content *hcl.BodyContent, name string) map[string]string {
	attr := content.Attributes[name]
	blocks := content.Blocks.OfType(name)
	if attr != nil && len(blocks) > 0 {
		d.diags = append(d.diags, errorAt(blocks[0].DefRange, "Duplicate "+name,
			"%s is already set as an argument at %s; use either the block or the argument, not both.",
			name, rangeString(attr.NameRange)))
		return nil
	}
	if attr != nil {
		return d.stringMapAttr(attr)
	}
	block := d.single(blocks)
	if block == nil {
		return nil
	}
	attrs, diags := block.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	out := map[string]string{}
	for _, a := range sortedAttributes(attrs) {
		val, ok := d.eval(a.Expr)
		if !ok || val.IsNull() {
			continue
		}
		s, ok := d.primitiveString(val, a.Expr.Range(), name+"."+a.Name)
		if ok {
			out[a.Name] = s
		}
	}
	return out
}

// stringMapAttr decodes `name = { ... }`.
func (d *decoder) stringMapAttr(attr *hcl.Attribute) map[string]string {
	val, ok := d.eval(attr.Expr)
	if !ok || val.IsNull() {
		return nil
	}
	ty := val.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: map of string required.", attr.Name))
		return nil
	}
	out := map[string]string{}
	for key, v := range val.AsValueMap() {
		if v.IsNull() {
			continue
		}
		s, ok := d.primitiveString(v, attr.Expr.Range(), attr.Name+"."+key)
		if ok {
			out[key] = s
		}
	}
	return out
}

// primitiveString turns a string, number or bool into its string form.
func (d *decoder) primitiveString(val cty.Value, rng hcl.Range, what string) (string, bool) {
	if !val.Type().IsPrimitiveType() {
		d.diags = append(d.diags, errorAt(rng, "Incorrect attribute value type",
			"The value of %s must be a string, number or bool, not %s.", what, val.Type().FriendlyName()))
		return "", false
	}
	s, err := convert.Convert(val, cty.String)
	if err != nil { // unreachable for primitive types, kept to never hide a failure
		d.diags = append(d.diags, errorAt(rng, "Incorrect attribute value type", "%s: %v", what, err))
		return "", false
	}
	return s.AsString(), true
}

// single returns the first of blocks that may appear once, and reports the
// others. It returns nil when there are none.
func (d *decoder) single(blocks hcl.Blocks) *hcl.Block {
	if len(blocks) == 0 {
		return nil
	}
	for _, extra := range blocks[1:] {
		d.diags = append(d.diags, errorAt(extra.DefRange, "Duplicate "+extra.Type+" block",
			"Only one %s block is allowed here; the first one is at %s.", extra.Type, rangeString(blocks[0].DefRange)))
	}
	return blocks[0]
}

// uniqueLabel reports a block whose label repeats an earlier sibling's, and
// returns false for it.
func (d *decoder) uniqueLabel(seen map[string]hcl.Range, block *hcl.Block) bool {
	label := block.Labels[0]
	if first, dup := seen[label]; dup {
		d.diags = append(d.diags, errorAt(block.LabelRanges[0], fmt.Sprintf("Duplicate %s %q", block.Type, label),
			"A %s named %q is already declared at %s.", block.Type, label, rangeString(first)))
		return false
	}
	seen[label] = block.LabelRanges[0]
	return true
}

// sortedAttributes lists attributes in source order, so that decoding and
// its diagnostics do not depend on map iteration.
func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hcl.Attribute) int { return a.NameRange.Start.Byte - b.NameRange.Start.Byte })
	return out
}

// jsonValue turns a cty value into the Go shapes encoding/json produces
// (string, bool, float64, []any, map[string]any, nil), because task
// config round-trips through JSON between the CLI, servers and clients.
func jsonValue(val cty.Value) (any, error) {
	if val.IsNull() {
		return nil, nil
	}
	ty := val.Type()
	switch {
	case ty == cty.String:
		return val.AsString(), nil
	case ty == cty.Bool:
		return val.True(), nil
	case ty == cty.Number:
		f, _ := val.AsBigFloat().Float64()
		if math.IsInf(f, 0) {
			return nil, fmt.Errorf("number %s is too large", val.AsBigFloat().Text('g', 10))
		}
		return f, nil
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out := make([]any, 0, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			_, elem := it.Element()
			v, err := jsonValue(elem)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case ty.IsMapType() || ty.IsObjectType():
		out := make(map[string]any, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			key, elem := it.Element()
			v, err := jsonValue(elem)
			if err != nil {
				return nil, err
			}
			out[key.AsString()] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("values of type %s cannot be used here", ty.FriendlyName())
}
