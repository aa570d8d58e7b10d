package scheduler

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"

	"github.com/drover-project/drover/structs"
)

// resolveTarget reads one side of a constraint against a node. A target
// written "${...}" names something of the node; anything else is a literal.
// found is false when the node does not have what the target names.
func resolveTarget(target string, n *structs.Node) (value string, found bool) {
	if !strings.HasPrefix(target, "${") || !strings.HasSuffix(target, "}") {
		return target, true
	}
	ref := target[2 : len(target)-1]
	switch ref {
	case "node.unique.id":
		return n.ID, true
	case "node.datacenter":
		return n.Datacenter, true
	case "node.unique.name":
		return n.Name, true
	case "node.class":
		return n.NodeClass, true
	case "node.pool":
		return orDefault(n.NodePool), true
	}
	if key, ok := strings.CutPrefix(ref, "attr."); ok {
		v, found := n.Attributes[key]
		return v, found
	}
	if key, ok := strings.CutPrefix(ref, "meta."); ok {
		v, found := n.Meta[key]
		return v, found
	}
	return "", false
}

// targetIsUnique reports whether a target reads something unique to one
// node, so that a check using it cannot be shared by the node's class.
func targetIsUnique(target string) bool {
	return strings.Contains(target, "${node.unique.") ||
		strings.Contains(target, "${attr.unique.") ||
		strings.Contains(target, "${meta.unique.")
}

// matcher evaluates constraint and affinity operators, keeping the regular
// expressions and version constraints it compiled for the next node.
type matcher struct {
	regexps  map[string]*regexp.Regexp
	versions map[string]version.Constraints
}

func newMatcher() *matcher {
	return &matcher{regexps: map[string]*regexp.Regexp{}, versions: map[string]version.Constraints{}}
}

// matches reports whether the node satisfies "lTarget operand rTarget".
// distinct_hosts and distinct_property depend on allocations, not on the
// node alone, and are checked elsewhere; here they always match.
func (m *matcher) matches(lTarget, operand, rTarget string, n *structs.Node) bool {
	l, lFound := resolveTarget(lTarget, n)
	switch operand {
	case structs.ConstraintAttributeIsSet:
		return lFound
	case structs.ConstraintAttributeNotSet:
		return !lFound
	case structs.ConstraintDistinctHosts, structs.ConstraintDistinctProperty:
		return true
	}
	r, rFound := resolveTarget(rTarget, n)
	switch operand {
	case structs.ConstraintEqual, structs.ConstraintEqualAlt, "":
		return lFound && rFound && l == r
	case structs.ConstraintNotEqual:
		// As Nomad: a missing attribute is not equal to anything.
		return !(lFound && rFound && l == r)
	}
	if !lFound || !rFound {
		return false
	}
	switch operand {
	case structs.ConstraintGreater:
		return compareOrdered(l, r) > 0
	case structs.ConstraintGreaterEqual:
		return compareOrdered(l, r) >= 0
	case structs.ConstraintLess:
		return compareOrdered(l, r) < 0
	case structs.ConstraintLessEqual:
		return compareOrdered(l, r) <= 0
	case structs.ConstraintRegex:
		re := m.regexp(r)
		return re != nil && re.MatchString(l)
	case structs.ConstraintVersion:
		return m.checkVersion(l, r, false)
	case structs.ConstraintSemver:
		return m.checkVersion(l, r, true)
	case structs.ConstraintSetContains, structs.ConstraintSetContainsAll:
		have := setOf(l)
		for _, want := range strings.Split(r, ",") {
			if !have[strings.TrimSpace(want)] {
				return false
			}
		}
		return true
	case structs.ConstraintSetContainsAny:
		have := setOf(l)
		for _, want := range strings.Split(r, ",") {
			if have[strings.TrimSpace(want)] {
				return true
			}
		}
		return false
	}
	return false
}

// compareOrdered compares two values as integers, else as floats, else as
// strings, as Nomad's ordering operators do.
func compareOrdered(l, r string) int {
	if li, err := strconv.ParseInt(l, 10, 64); err == nil {
		if ri, err := strconv.ParseInt(r, 10, 64); err == nil {
			return cmp.Compare(li, ri)
		}
	}
	if lf, err := strconv.ParseFloat(l, 64); err == nil {
		if rf, err := strconv.ParseFloat(r, 64); err == nil {
			return cmp.Compare(lf, rf)
		}
	}
	return strings.Compare(l, r)
}

func (m *matcher) regexp(expr string) *regexp.Regexp {
	if re, ok := m.regexps[expr]; ok {
		return re
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		re = nil // validated on submit; an invalid one matches nothing
	}
	m.regexps[expr] = re
	return re
}

// checkVersion checks a node's version against a constraint such as
// ">= 1.2, < 2". semver is strict: the version must be full semver
// (major.minor.patch).
func (m *matcher) checkVersion(v, constraint string, semver bool) bool {
	var ver *version.Version
	var err error
	if semver {
		ver, err = version.NewSemver(v)
	} else {
		ver, err = version.NewVersion(v)
	}
	if err != nil {
		return false
	}
	cs, ok := m.versions[constraint]
	if !ok {
		cs, err = version.NewConstraint(constraint)
		if err != nil {
			cs = nil
		}
		m.versions[constraint] = cs
	}
	return cs != nil && cs.Check(ver)
}

func setOf(list string) map[string]bool {
	set := map[string]bool{}
	for _, e := range strings.Split(list, ",") {
		set[strings.TrimSpace(e)] = true
	}
	return set
}
