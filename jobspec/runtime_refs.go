package jobspec

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Runtime references.
//
// A job file mixes two kinds of "${...}": references the parser resolves
// (var.x, local.y) and references only a client can fill in once the task is
// placed: ${NOMAD_PORT_http}, ${attr.kernel.name}, ${node.unique.name},
// ${meta.foo}, ${env["X"]}. Like Nomad, the parser keeps the second kind as
// literal text so the client interpolates it later.
//
// keepRuntimeRefs does this by rewriting the expression's syntax tree in
// place before it is evaluated: every interpolation that is just a reference
// to a root other than var and local becomes a string literal of its own
// "${...}" text. A runtime reference used anywhere else (bare, as a function
// argument, in a condition) cannot be kept, because its value is unknown
// here; that is an error pointing at it.

// parsedRoots are the roots the parser resolves itself.
var parsedRoots = map[string]bool{"var": true, "local": true}

// keepRuntimeRefs rewrites runtime references in expr and reports the ones
// it cannot keep. It is idempotent, so evaluating an expression twice is safe.
func keepRuntimeRefs(expr hcl.Expression) hcl.Diagnostics {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return nil
	}
	return hclsyntax.Walk(node, &refWalker{})
}

// refWalker tracks the symbols that for expressions declare, since
// [for s in list : "${s}"] refers to s, not to a runtime value.
// Naked dotted object keys ({ a.b = 1 }) are skipped: hcl itself reports
// them as ambiguous, which is the more helpful message.
type refWalker struct {
	scopes    [][]string
	nakedKeys map[hclsyntax.Node]bool
}

func (w *refWalker) Enter(node hclsyntax.Node) hcl.Diagnostics {
	switch n := node.(type) {
	case *hclsyntax.ForExpr:
		w.scopes = append(w.scopes, []string{n.KeyVar, n.ValVar})
	case *hclsyntax.TemplateExpr:
		for i, part := range n.Parts {
			if lit := w.literalFor(part); lit != nil {
				n.Parts[i] = lit
			}
		}
	case *hclsyntax.TemplateWrapExpr:
		if lit := w.literalFor(n.Wrapped); lit != nil {
			n.Wrapped = lit
		}
	case *hclsyntax.ObjectConsKeyExpr:
		if !n.ForceNonLiteral {
			if w.nakedKeys == nil {
				w.nakedKeys = map[hclsyntax.Node]bool{}
			}
			w.nakedKeys[n.Wrapped] = true
		}
	case *hclsyntax.ScopeTraversalExpr:
		// Reached only when the reference is not directly interpolated.
		if !w.nakedKeys[n] && w.isRuntime(n.Traversal) {
			root := n.Traversal.RootName()
			return hcl.Diagnostics{errorAt(n.SrcRange, "Unknown variable",
				"There is no variable named %q. A runtime reference such as attr.*, node.*, meta.*, env[...] or NOMAD_* "+
					"is filled in by the client, so it can only be written directly inside a string, as %q.",
				root, refText(n.Traversal))}
		}
	}
	return nil
}

func (w *refWalker) Exit(node hclsyntax.Node) hcl.Diagnostics {
	if _, ok := node.(*hclsyntax.ForExpr); ok {
		w.scopes = w.scopes[:len(w.scopes)-1]
	}
	return nil
}

// literalFor returns the literal that replaces an interpolated runtime
// reference, or nil when expr is something the parser evaluates.
func (w *refWalker) literalFor(expr hclsyntax.Expression) hclsyntax.Expression {
	ref, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || !w.isRuntime(ref.Traversal) {
		return nil
	}
	return &hclsyntax.LiteralValueExpr{Val: cty.StringVal(refText(ref.Traversal)), SrcRange: ref.SrcRange}
}

// isRuntime reports whether a traversal's root is left to the client.
func (w *refWalker) isRuntime(t hcl.Traversal) bool {
	root := t.RootName()
	if parsedRoots[root] {
		return false
	}
	for _, scope := range w.scopes {
		for _, name := range scope {
			if name != "" && name == root {
				return false
			}
		}
	}
	return true
}

// refText renders a traversal back as "${...}" in a canonical spelling,
// so `${ attr.kernel.name }` is kept as "${attr.kernel.name}".
func refText(t hcl.Traversal) string {
	var b strings.Builder
	b.WriteString("${")
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString(".")
			b.WriteString(s.Name)
		case hcl.TraverseIndex:
			b.WriteString("[")
			switch {
			case s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull():
				b.WriteString(strconv.Quote(s.Key.AsString()))
			case s.Key.Type() == cty.Number && s.Key.IsKnown() && !s.Key.IsNull():
				b.WriteString(s.Key.AsBigFloat().Text('f', -1))
			}
			b.WriteString("]")
		case hcl.TraverseSplat:
			b.WriteString("[*]")
		}
	}
	b.WriteString("}")
	return b.String()
}
