package structs

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Constraint operators, as Nomad's. An empty operand means "=".
const (
	ConstraintEqual            = "="
	ConstraintEqualAlt         = "=="
	ConstraintNotEqual         = "!="
	ConstraintGreater          = ">"
	ConstraintGreaterEqual     = ">="
	ConstraintLess             = "<"
	ConstraintLessEqual        = "<="
	ConstraintRegex            = "regexp"
	ConstraintVersion          = "version"
	ConstraintSemver           = "semver"
	ConstraintSetContains      = "set_contains"
	ConstraintSetContainsAll   = "set_contains_all"
	ConstraintSetContainsAny   = "set_contains_any"
	ConstraintAttributeIsSet   = "is_set"
	ConstraintAttributeNotSet  = "is_not_set"
	ConstraintDistinctHosts    = "distinct_hosts"
	ConstraintDistinctProperty = "distinct_property"
)

// constraintOperators are the operators a constraint may use.
var constraintOperators = []string{
	ConstraintEqual, ConstraintEqualAlt, ConstraintNotEqual, ConstraintGreater, ConstraintGreaterEqual,
	ConstraintLess, ConstraintLessEqual, ConstraintRegex, ConstraintVersion, ConstraintSemver,
	ConstraintSetContains, ConstraintSetContainsAll, ConstraintSetContainsAny,
	ConstraintAttributeIsSet, ConstraintAttributeNotSet, ConstraintDistinctHosts, ConstraintDistinctProperty,
}

// affinityOperators are the operators an affinity may use: those of a
// constraint that compare one node with a value.
var affinityOperators = []string{
	ConstraintEqual, ConstraintEqualAlt, ConstraintNotEqual, ConstraintGreater, ConstraintGreaterEqual,
	ConstraintLess, ConstraintLessEqual, ConstraintRegex, ConstraintVersion, ConstraintSemver,
	ConstraintSetContains, ConstraintSetContainsAll, ConstraintSetContainsAny,
}

// Constraint restricts the nodes a job, group or task may run on. LTarget
// and RTarget are either literals or interpolations of the node such as
// "${attr.kernel.name}", "${node.class}" or "${meta.rack}".
type Constraint struct {
	LTarget string
	RTarget string
	Operand string
}

// String is the constraint as a user reads it in placement failures:
// "${attr.kernel.name} = windows".
func (c *Constraint) String() string {
	switch c.Operand {
	case ConstraintDistinctHosts:
		return ConstraintDistinctHosts
	case ConstraintAttributeIsSet, ConstraintAttributeNotSet:
		return c.LTarget + " " + c.Operand
	}
	return fmt.Sprintf("%s %s %s", c.LTarget, c.Operand, c.RTarget)
}

// Canonicalize makes "" and "==" read "=".
func (c *Constraint) Canonicalize() {
	if c.Operand == "" || c.Operand == ConstraintEqualAlt {
		c.Operand = ConstraintEqual
	}
}

// Validate checks the operator and the operands it needs.
func (c *Constraint) Validate() error {
	if !slices.Contains(constraintOperators, c.Operand) {
		return fmt.Errorf("constraint %q: unknown operator %q", c.String(), c.Operand)
	}
	switch c.Operand {
	case ConstraintDistinctHosts:
		// Takes no targets; Nomad accepts an optional "true" value.
		if c.RTarget != "" && c.RTarget != "true" {
			return fmt.Errorf("constraint %q: distinct_hosts takes no value, or \"true\"", c.String())
		}
		return nil
	case ConstraintDistinctProperty:
		if c.LTarget == "" {
			return fmt.Errorf("constraint %q: distinct_property needs an attribute", c.String())
		}
		if c.RTarget != "" {
			if n, err := strconv.ParseUint(c.RTarget, 10, 64); err != nil || n == 0 {
				return fmt.Errorf("constraint %q: distinct_property value must be a positive count, got %q", c.String(), c.RTarget)
			}
		}
		return nil
	case ConstraintAttributeIsSet, ConstraintAttributeNotSet:
		if c.LTarget == "" {
			return fmt.Errorf("constraint %q: %s needs an attribute", c.String(), c.Operand)
		}
		return nil
	}
	return validateComparison("constraint", c.String(), c.LTarget, c.RTarget, c.Operand)
}

// validateComparison checks an operator that compares two operands.
func validateComparison(kind, name, l, r, op string) error {
	if l == "" {
		return fmt.Errorf("%s %q: missing attribute", kind, name)
	}
	switch op {
	case ConstraintRegex:
		if _, err := regexp.Compile(r); err != nil {
			return fmt.Errorf("%s %q: invalid regular expression: %v", kind, name, err)
		}
	case ConstraintVersion, ConstraintSemver:
		if r == "" {
			return fmt.Errorf("%s %q: missing version constraint", kind, name)
		}
	}
	return nil
}

// Copy returns a copy.
func (c *Constraint) Copy() *Constraint {
	if c == nil {
		return nil
	}
	x := *c
	return &x
}

// Affinity prefers (positive weight) or avoids (negative weight) nodes
// matching it, without excluding any.
type Affinity struct {
	LTarget string
	RTarget string
	Operand string
	Weight  int8
}

// String is the affinity as the user wrote it.
func (a *Affinity) String() string {
	return fmt.Sprintf("%s %s %s %d", a.LTarget, a.Operand, a.RTarget, a.Weight)
}

// Canonicalize makes "" and "==" read "=" and a missing weight 50, as Nomad.
func (a *Affinity) Canonicalize() {
	if a.Operand == "" || a.Operand == ConstraintEqualAlt {
		a.Operand = ConstraintEqual
	}
	if a.Weight == 0 {
		a.Weight = 50
	}
}

// Validate checks the operator and the weight, which is in [-100, 100]
// and not zero.
func (a *Affinity) Validate() error {
	if !slices.Contains(affinityOperators, a.Operand) {
		return fmt.Errorf("affinity %q: unknown operator %q", a.String(), a.Operand)
	}
	if a.Weight == 0 || a.Weight > 100 || a.Weight < -100 {
		return fmt.Errorf("affinity %q: weight must be in [-100, 100] and not 0, got %d", a.String(), a.Weight)
	}
	return validateComparison("affinity", a.String(), a.LTarget, a.RTarget, a.Operand)
}

// Copy returns a copy.
func (a *Affinity) Copy() *Affinity {
	if a == nil {
		return nil
	}
	x := *a
	return &x
}

// Spread spreads a group's allocations over the values of a node
// attribute: evenly, or in the proportions of its targets.
type Spread struct {
	Attribute    string
	Weight       int8
	SpreadTarget []*SpreadTarget
}

// SpreadTarget is the share of allocations a value should receive.
type SpreadTarget struct {
	Value   string
	Percent uint8
}

// Canonicalize gives a spread without weight Nomad's default, 50.
func (s *Spread) Canonicalize() {
	if s.Weight == 0 {
		s.Weight = 50
	}
}

// Validate checks the weight and that the targets add up to at most 100%.
func (s *Spread) Validate() error {
	var errs []error
	if s.Attribute == "" {
		errs = append(errs, errors.New("spread: missing attribute"))
	}
	if s.Weight <= 0 || s.Weight > 100 {
		errs = append(errs, fmt.Errorf("spread %q: weight must be in (0, 100], got %d", s.Attribute, s.Weight))
	}
	seen := map[string]bool{}
	sum := 0
	for _, t := range s.SpreadTarget {
		if seen[t.Value] {
			errs = append(errs, fmt.Errorf("spread %q: target %q is declared twice", s.Attribute, t.Value))
		}
		seen[t.Value] = true
		if t.Percent > 100 {
			errs = append(errs, fmt.Errorf("spread %q: target %q: percent must be in [0, 100], got %d", s.Attribute, t.Value, t.Percent))
		}
		sum += int(t.Percent)
	}
	if sum > 100 {
		errs = append(errs, fmt.Errorf("spread %q: target percentages add up to %d, more than 100", s.Attribute, sum))
	}
	return errors.Join(errs...)
}

// Copy returns a deep copy.
func (s *Spread) Copy() *Spread {
	if s == nil {
		return nil
	}
	x := *s
	x.SpreadTarget = nil
	for _, t := range s.SpreadTarget {
		c := *t
		x.SpreadTarget = append(x.SpreadTarget, &c)
	}
	return &x
}

// placementRules are the constraints, affinities and spreads of one level
// (job, group or task), which canonicalize, validate and copy alike.
func canonicalizeRules(cs []*Constraint, as []*Affinity, ss []*Spread) {
	for _, c := range cs {
		c.Canonicalize()
	}
	for _, a := range as {
		a.Canonicalize()
	}
	for _, s := range ss {
		s.Canonicalize()
	}
}

func validateRules(cs []*Constraint, as []*Affinity, ss []*Spread) []error {
	var errs []error
	for _, c := range cs {
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, a := range as {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range ss {
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func copyConstraints(cs []*Constraint) []*Constraint {
	if cs == nil {
		return nil
	}
	out := make([]*Constraint, len(cs))
	for i, c := range cs {
		out[i] = c.Copy()
	}
	return out
}

func copyAffinities(as []*Affinity) []*Affinity {
	if as == nil {
		return nil
	}
	out := make([]*Affinity, len(as))
	for i, a := range as {
		out[i] = a.Copy()
	}
	return out
}

func copySpreads(ss []*Spread) []*Spread {
	if ss == nil {
		return nil
	}
	out := make([]*Spread, len(ss))
	for i, s := range ss {
		out[i] = s.Copy()
	}
	return out
}
