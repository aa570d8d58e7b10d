package jobspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-project/drover/structs"
)

// The placement blocks, as they appear in the job, group and task schemas
// (spread only in the job and group ones, as in Nomad).
var (
	constraintBlock = hcl.BlockHeaderSchema{Type: "constraint"}
	affinityBlock   = hcl.BlockHeaderSchema{Type: "affinity"}
	spreadBlock     = hcl.BlockHeaderSchema{Type: "spread"}
)

var constraintSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "attribute"}, {Name: "operator"}, {Name: "value"},
		// Shorthands: `version = ">= 1.2"` is operator "version" with that value.
		{Name: "version"}, {Name: "semver"}, {Name: "regexp"}, {Name: "set_contains"},
		{Name: "distinct_hosts"}, {Name: "distinct_property"},
	},
}

// constraintShorthands are the attributes that name their operator.
var constraintShorthands = []string{
	structs.ConstraintVersion, structs.ConstraintSemver, structs.ConstraintRegex, structs.ConstraintSetContains,
}

// decodeConstraints decodes the constraint blocks of a job, group or task.
func (d *decoder) decodeConstraints(content *hcl.BodyContent) []*structs.Constraint {
	var out []*structs.Constraint
	for _, b := range content.Blocks.OfType("constraint") {
		c := &structs.Constraint{}
		body, diags := b.Body.Content(constraintSchema)
		d.diags = append(d.diags, diags...)
		attrs := body.Attributes
		d.setString(attrs, "attribute", &c.LTarget)
		d.setString(attrs, "operator", &c.Operand)
		d.setPrimitive(attrs, "value", &c.RTarget)
		for _, op := range constraintShorthands {
			if attrs[op] != nil {
				c.Operand = op
				d.setString(attrs, op, &c.RTarget)
			}
		}
		if attr := attrs["distinct_hosts"]; attr != nil {
			var on bool
			d.setBool(attrs, "distinct_hosts", &on)
			if !on {
				continue // distinct_hosts = false asks for nothing
			}
			c.Operand = structs.ConstraintDistinctHosts
		}
		if attrs["distinct_property"] != nil {
			c.Operand = structs.ConstraintDistinctProperty
			d.setString(attrs, "distinct_property", &c.LTarget)
		}
		if c.Operand == "" {
			c.Operand = structs.ConstraintEqual
		}
		if err := c.Validate(); err != nil {
			d.diags = append(d.diags, errorAt(b.DefRange, "Invalid constraint", "%v.", err))
		}
		out = append(out, c)
	}
	return out
}

var affinitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "attribute"}, {Name: "operator"}, {Name: "value"}, {Name: "weight"},
		{Name: "version"}, {Name: "semver"}, {Name: "regexp"}, {Name: "set_contains"},
		{Name: "set_contains_any"}, {Name: "set_contains_all"},
	},
}

// decodeAffinities decodes the affinity blocks of a job, group or task.
func (d *decoder) decodeAffinities(content *hcl.BodyContent) []*structs.Affinity {
	var out []*structs.Affinity
	for _, b := range content.Blocks.OfType("affinity") {
		a := &structs.Affinity{}
		body, diags := b.Body.Content(affinitySchema)
		d.diags = append(d.diags, diags...)
		attrs := body.Attributes
		d.setString(attrs, "attribute", &a.LTarget)
		d.setString(attrs, "operator", &a.Operand)
		d.setPrimitive(attrs, "value", &a.RTarget)
		for _, op := range append(constraintShorthands, structs.ConstraintSetContainsAny, structs.ConstraintSetContainsAll) {
			if attrs[op] != nil {
				a.Operand = op
				d.setString(attrs, op, &a.RTarget)
			}
		}
		weight := 50
		if d.setInt(attrs, "weight", &weight) && (weight < -100 || weight > 100 || weight == 0) {
			d.diags = append(d.diags, errorAt(attrs["weight"].Expr.Range(), "Invalid affinity weight",
				"weight must be between -100 and 100 and not 0, got %d.", weight))
			continue
		}
		a.Weight = int8(weight)
		a.Canonicalize()
		if err := a.Validate(); err != nil {
			d.diags = append(d.diags, errorAt(b.DefRange, "Invalid affinity", "%v.", err))
		}
		out = append(out, a)
	}
	return out
}

var spreadSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "attribute"}, {Name: "weight"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "target", LabelNames: []string{"value"}}},
}

var spreadTargetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "percent"}, {Name: "value"}},
}

// decodeSpreads decodes the spread blocks of a job or group.
func (d *decoder) decodeSpreads(content *hcl.BodyContent) []*structs.Spread {
	var out []*structs.Spread
	for _, b := range content.Blocks.OfType("spread") {
		s := &structs.Spread{}
		body, diags := b.Body.Content(spreadSchema)
		d.diags = append(d.diags, diags...)
		d.setString(body.Attributes, "attribute", &s.Attribute)
		weight := 50
		if d.setInt(body.Attributes, "weight", &weight) && (weight <= 0 || weight > 100) {
			d.diags = append(d.diags, errorAt(body.Attributes["weight"].Expr.Range(), "Invalid spread weight",
				"weight must be between 1 and 100, got %d.", weight))
			continue
		}
		s.Weight = int8(weight)
		seen := map[string]hcl.Range{}
		for _, tb := range body.Blocks.OfType("target") {
			if !d.uniqueLabel(seen, tb) {
				continue
			}
			t := &structs.SpreadTarget{Value: tb.Labels[0]}
			tc, diags := tb.Body.Content(spreadTargetSchema)
			d.diags = append(d.diags, diags...)
			d.setString(tc.Attributes, "value", &t.Value)
			percent := 0
			if d.setInt(tc.Attributes, "percent", &percent) && (percent < 0 || percent > 100) {
				d.diags = append(d.diags, errorAt(tc.Attributes["percent"].Expr.Range(), "Invalid spread target",
					"percent must be between 0 and 100, got %d.", percent))
				continue
			}
			t.Percent = uint8(percent)
			s.SpreadTarget = append(s.SpreadTarget, t)
		}
		if err := s.Validate(); err != nil {
			d.diags = append(d.diags, errorAt(b.DefRange, "Invalid spread", "%v.", err))
		}
		out = append(out, s)
	}
	return out
}

// setPrimitive stores a string, number or bool attribute as a string, as
// a constraint's value may be written `value = 2` or `value = true`.
func (d *decoder) setPrimitive(attrs hcl.Attributes, name string, dst *string) {
	attr := attrs[name]
	if attr == nil {
		return
	}
	val, ok := d.eval(attr.Expr)
	if !ok || val.IsNull() {
		return
	}
	if val.Type() == cty.String {
		*dst = val.AsString()
		return
	}
	if s, ok := d.primitiveString(val, attr.Expr.Range(), "attribute "+name); ok {
		*dst = s
	}
}
