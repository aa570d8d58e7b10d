// Package jobspec reads Nomad's HCL2 job files (docker driver) into
// *structs.Job.
//
// A job file holds one job block and, around it, variable and locals
// blocks. Expressions may use var.NAME, local.NAME and pure functions
// (upper, format, jsonencode, ...). Runtime references such as
// "${NOMAD_PORT_http}" or "${attr.kernel.name}" are kept as literal text for
// the client to fill in (see runtime_refs.go).
//
// The result is a faithful decode, not a canonical job: callers call
// job.Canonicalize() and job.Validate(). Every unknown block or argument is
// an error with its position; all problems come back together as an *Error.
package jobspec

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/drover-project/drover/structs"
)

// ParseOptions give values to the variables a job file declares. From
// lowest to highest precedence: a variable's default, Env, VarFiles in
// order, VarContent, Vars in order.
type ParseOptions struct {
	// Vars are "name=value" assignments, as given with -var. The value is
	// converted to the variable's declared type; lists, maps and objects
	// are written in HCL syntax (-var 'dcs=["a","b"]').
	Vars []string
	// VarFiles are paths of HCL files of `name = value` lines (-var-file).
	VarFiles []string
	// VarContent is the content of one more such file, as the Variables
	// field of /v1/jobs/parse carries it.
	VarContent string
	// Env is consulted for NOMAD_VAR_<name> values, as Nomad's CLI does
	// with its environment. Names not declared as variables are ignored.
	Env map[string]string
}

// varContentFilename names VarContent in error messages.
const varContentFilename = "<var-content>"

// envVarPrefix marks environment variables that set job variables.
const envVarPrefix = "NOMAD_VAR_"

// ParseFile reads and parses the job file at path.
func ParseFile(path string, opts *ParseOptions) (*structs.Job, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, opts)
}

// Parse parses a job file's content; filename is used in error positions.
// A failure to read a variable file is returned as is; every problem with
// the content of the job file, variable files or -var options is an *Error.
func Parse(filename string, src []byte, opts *ParseOptions) (*structs.Job, error) {
	if opts == nil {
		opts = &ParseOptions{}
	}
	varFiles := make([]varFile, 0, len(opts.VarFiles)+1)
	for _, path := range opts.VarFiles {
		content, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read variable file: %w", err)
		}
		varFiles = append(varFiles, varFile{name: path, src: content})
	}
	if opts.VarContent != "" {
		varFiles = append(varFiles, varFile{name: varContentFilename, src: []byte(opts.VarContent)})
	}

	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagnosticsError(diags)
	}
	job, diags := decodeFile(file.Body, varFiles, opts)
	if err := diagnosticsError(diags); err != nil {
		return nil, err
	}
	return job, nil
}

type varFile struct {
	name string
	src  []byte
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "job", LabelNames: []string{"id"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
	},
}

// decodeFile resolves variables, then locals, then decodes the job with
// both in scope.
func decodeFile(body hcl.Body, varFiles []varFile, opts *ParseOptions) (*structs.Job, hcl.Diagnostics) {
	content, diags := body.Content(fileSchema)
	d := &decoder{diags: diags}

	vars := d.declareVariables(content.Blocks.OfType("variable"))
	d.assignVariables(vars, varFiles, opts)
	d.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": vars.object(), "local": cty.EmptyObjectVal},
		Functions: functions(),
	}
	d.ctx.Variables["local"] = d.evalLocals(content.Blocks.OfType("locals"))

	jobs := content.Blocks.OfType("job")
	if len(jobs) == 0 {
		d.diags = append(d.diags, errorAt(body.MissingItemRange(), "Missing job block",
			`A job file must contain one job block, such as job "example" { ... }.`))
		return nil, d.diags
	}
	job := d.decodeJob(d.single(jobs))
	return job, d.diags
}

// variable is one declared input variable.
type variable struct {
	name     string
	typ      cty.Type // cty.DynamicPseudoType when the type is "any" or not given
	value    cty.Value
	hasValue bool
	declared hcl.Range
}

// set records a value. A value that failed (already reported) becomes
// unknown: it silences "missing value" and the errors of every expression
// that uses it, so one mistake is reported once.
func (v *variable) set(val cty.Value, ok bool) {
	if !ok {
		val = cty.UnknownVal(v.typ)
	}
	v.value, v.hasValue = val, true
}

// variables keeps declaration order, for deterministic messages.
type variables struct {
	byName map[string]*variable
	order  []*variable
}

func (vs *variables) object() cty.Value {
	if len(vs.order) == 0 {
		return cty.EmptyObjectVal
	}
	attrs := make(map[string]cty.Value, len(vs.order))
	for _, v := range vs.order {
		if v.hasValue {
			attrs[v.name] = v.value
		} else {
			attrs[v.name] = cty.UnknownVal(v.typ) // reported as missing
		}
	}
	return cty.ObjectVal(attrs)
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}},
}

// declareVariables reads the variable blocks: their type and default.
func (d *decoder) declareVariables(blocks hcl.Blocks) *variables {
	vs := &variables{byName: map[string]*variable{}}
	for _, block := range blocks {
		name := block.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			d.diags = append(d.diags, errorAt(block.LabelRanges[0], "Invalid variable name",
				"%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name))
			continue
		}
		if prev, dup := vs.byName[name]; dup {
			d.diags = append(d.diags, errorAt(block.LabelRanges[0], "Duplicate variable",
				"A variable named %q is already declared at %s.", name, rangeString(prev.declared)))
			continue
		}
		v := &variable{name: name, typ: cty.DynamicPseudoType, declared: block.DefRange}
		vs.byName[name] = v
		vs.order = append(vs.order, v)

		content, diags := block.Body.Content(variableSchema)
		d.diags = append(d.diags, diags...)
		if attr := content.Attributes["type"]; attr != nil {
			ty, diags := typeexpr.TypeConstraint(attr.Expr)
			d.diags = append(d.diags, diags...)
			if !diags.HasErrors() {
				v.typ = ty
			}
		}
		var description string // documentation only, but still type-checked
		d.setString(content.Attributes, "description", &description)
		if attr := content.Attributes["default"]; attr != nil {
			v.set(d.constant(attr.Expr, v, "default value"))
		}
	}
	return vs
}

// assignVariables applies values from every source, lowest precedence
// first, then reports the variables still without a value.
func (d *decoder) assignVariables(vs *variables, varFiles []varFile, opts *ParseOptions) {
	for _, key := range sortedKeys(opts.Env) {
		name, ok := strings.CutPrefix(key, envVarPrefix)
		if v := vs.byName[name]; ok && v != nil {
			d.assignString(v, opts.Env[key], envVarPrefix+name)
		}
	}
	for _, f := range varFiles {
		d.assignFile(vs, f)
	}
	for _, kv := range opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option",
				Detail: fmt.Sprintf("%q is not name=value.", kv)})
			continue
		}
		v := vs.byName[name]
		if v == nil {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("-var %s: the job file declares no variable %q; add a variable %q {} block.", name, name, name)})
			continue
		}
		d.assignString(v, raw, "-var "+name)
	}
	for _, v := range vs.order {
		if !v.hasValue {
			d.diags = append(d.diags, errorAt(v.declared, "Missing value for variable",
				"The variable %q has no default, so it needs a value: -var %s=..., a -var-file, or %s%s.",
				v.name, v.name, envVarPrefix, v.name))
		}
	}
}

// assignFile applies a variable file's `name = value` lines.
func (d *decoder) assignFile(vs *variables, f varFile) {
	file, diags := hclsyntax.ParseConfig(f.src, f.name, hcl.InitialPos)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return
	}
	attrs, diags := file.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	for _, attr := range sortedAttributes(attrs) {
		v := vs.byName[attr.Name]
		if v == nil {
			d.diags = append(d.diags, errorAt(attr.NameRange, "Undeclared variable",
				"The job file declares no variable %q; add a variable %q {} block or remove this line.", attr.Name, attr.Name))
			continue
		}
		v.set(d.constant(attr.Expr, v, "value"))
	}
}

// assignString applies a value given as text (-var, NOMAD_VAR_*). Strings
// are taken as they are; numbers and bools are converted; lists, maps and
// objects are read as HCL expressions, as Terraform and Nomad do.
func (d *decoder) assignString(v *variable, raw, source string) {
	v.set(d.fromString(v, raw, source))
}

// fromString converts a value given as text to v's type.
func (d *decoder) fromString(v *variable, raw, source string) (cty.Value, bool) {
	val := cty.StringVal(raw)
	if v.typ != cty.DynamicPseudoType && !v.typ.IsPrimitiveType() {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
		d.diags = append(d.diags, diags...) // positioned in the value, as "-var name:1:5"
		if diags.HasErrors() {
			return cty.NilVal, false
		}
		var ok bool
		if val, ok = d.eval(expr); !ok {
			return cty.NilVal, false
		}
	}
	conv, err := convert.Convert(val, v.typ)
	if err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("%s: %s.", source, err)})
		return cty.NilVal, false
	}
	return conv, true
}

// constant evaluates a default or a variable file's value: a constant
// expression (no references, no function calls) converted to v's type.
func (d *decoder) constant(expr hcl.Expression, v *variable, what string) (cty.Value, bool) {
	saved := d.ctx
	d.ctx = nil // nil context: hcl reports references and calls as not allowed
	val, ok := d.eval(expr)
	d.ctx = saved
	if !ok {
		return cty.NilVal, false
	}
	conv, err := convert.Convert(val, v.typ)
	if err != nil {
		d.diags = append(d.diags, errorAt(expr.Range(), "Invalid value for variable",
			"The %s of variable %q does not match its type %s: %s.", what, v.name, v.typ.FriendlyName(), err))
		return cty.NilVal, false
	}
	return conv, true
}

// local is one named value of a locals block.
type local struct {
	attr *hcl.Attribute
	deps []string
}

// evalLocals evaluates every locals entry once its own references to
// other locals are resolved, whatever their order in the file, and returns
// the object local.* refers to.
func (d *decoder) evalLocals(blocks hcl.Blocks) cty.Value {
	var pending []*local
	seen := map[string]hcl.Range{}
	for _, block := range blocks {
		attrs, diags := block.Body.JustAttributes()
		d.diags = append(d.diags, diags...)
		for _, attr := range sortedAttributes(attrs) {
			if first, dup := seen[attr.Name]; dup {
				d.diags = append(d.diags, errorAt(attr.NameRange, "Duplicate local value",
					"A local value named %q is already defined at %s.", attr.Name, rangeString(first)))
				continue
			}
			seen[attr.Name] = attr.NameRange
			pending = append(pending, &local{attr: attr, deps: localDeps(attr.Expr)})
		}
	}

	values := map[string]cty.Value{}
	for len(pending) > 0 {
		var next []*local
		for _, l := range pending {
			if !l.ready(values, seen) {
				next = append(next, l)
				continue
			}
			d.ctx.Variables["local"] = cty.ObjectVal(values)
			val, ok := d.eval(l.attr.Expr)
			if !ok {
				val = cty.DynamicVal // reported; unknown keeps dependents quiet
			}
			values[l.attr.Name] = val
		}
		if len(next) == len(pending) {
			for _, l := range next {
				d.diags = append(d.diags, errorAt(l.attr.NameRange, "Circular reference in locals",
					"local.%s depends, directly or through other locals, on itself.", l.attr.Name))
				values[l.attr.Name] = cty.DynamicVal
			}
			break
		}
		pending = next
	}
	return cty.ObjectVal(values)
}

// ready reports whether every local l refers to is evaluated. References
// to undefined locals do not wait: evaluating reports them.
func (l *local) ready(values map[string]cty.Value, defined map[string]hcl.Range) bool {
	for _, dep := range l.deps {
		_, done := values[dep]
		_, exists := defined[dep]
		if exists && !done {
			return false
		}
	}
	return true
}

// localDeps lists the locals an expression refers to.
func localDeps(expr hcl.Expression) []string {
	var deps []string
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if attr, ok := t[1].(hcl.TraverseAttr); ok {
			deps = append(deps, attr.Name)
		}
	}
	return deps
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
