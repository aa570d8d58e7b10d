package structs

import "testing"

func TestPlacementRulesValidate(t *testing.T) {
	valid := []interface{ Validate() error }{
		&Constraint{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="},
		&Constraint{Operand: ConstraintDistinctHosts},
		&Constraint{LTarget: "${meta.rack}", RTarget: "2", Operand: ConstraintDistinctProperty},
		&Constraint{LTarget: "${attr.x}", Operand: ConstraintAttributeIsSet},
		&Affinity{LTarget: "${node.class}", RTarget: "a", Operand: "=", Weight: -100},
		&Spread{Attribute: "${node.datacenter}", Weight: 50, SpreadTarget: []*SpreadTarget{{Value: "a", Percent: 60}, {Value: "b", Percent: 40}}},
	}
	for _, v := range valid {
		if err := v.Validate(); err != nil {
			t.Errorf("%+v: %v", v, err)
		}
	}
	invalid := []interface{ Validate() error }{
		&Constraint{LTarget: "${attr.x}", RTarget: "y", Operand: "like"},
		&Constraint{LTarget: "${attr.x}", RTarget: "(", Operand: ConstraintRegex},
		&Constraint{LTarget: "${meta.rack}", RTarget: "zero", Operand: ConstraintDistinctProperty},
		&Constraint{RTarget: "y", Operand: "="},
		&Affinity{LTarget: "${node.class}", RTarget: "a", Operand: "=", Weight: 0},
		&Affinity{LTarget: "${node.class}", RTarget: "a", Operand: ConstraintDistinctHosts, Weight: 10},
		&Spread{Attribute: "${node.datacenter}", Weight: 50, SpreadTarget: []*SpreadTarget{{Value: "a", Percent: 70}, {Value: "b", Percent: 40}}},
		&Spread{Weight: 50},
	}
	for _, v := range invalid {
		if err := v.Validate(); err == nil {
			t.Errorf("%+v validated", v)
		}
	}
	c := &Constraint{LTarget: "${attr.kernel.name}", RTarget: "windows", Operand: "=="}
	c.Canonicalize()
	if c.String() != "${attr.kernel.name} = windows" {
		t.Errorf("String() = %q", c.String())
	}
}
