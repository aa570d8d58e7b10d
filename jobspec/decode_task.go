package jobspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/drover-project/drover/structs"
)

var taskSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "driver"}, {Name: "user"}, {Name: "kill_timeout"}, {Name: "kill_signal"},
		{Name: "leader"}, {Name: "env"}, {Name: "meta"},
		{Name: "shutdown_delay"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "config"}, {Type: "env"}, {Type: "meta"}, {Type: "resources"},
		{Type: "restart"}, {Type: "lifecycle"}, {Type: "service"}, {Type: "volume_mount"},
		constraintBlock, affinityBlock,
	},
}

// decodeTask decodes `task "name" { ... }`.
func (d *decoder) decodeTask(block *hcl.Block) *structs.Task {
	t := &structs.Task{Name: block.Labels[0]}
	content, diags := block.Body.Content(taskSchema)
	d.diags = append(d.diags, diags...)

	attrs := content.Attributes
	d.setString(attrs, "driver", &t.Driver)
	d.setString(attrs, "user", &t.User)
	d.setDuration(attrs, "kill_timeout", &t.KillTimeout)
	d.setString(attrs, "kill_signal", &t.KillSignal)
	d.setBool(attrs, "leader", &t.Leader)
	t.Env = d.stringMap(content, "env")
	t.Meta = d.stringMap(content, "meta")
	t.Constraints = d.decodeConstraints(content)
	t.Affinities = d.decodeAffinities(content)
	if cb := d.single(content.Blocks.OfType("config")); cb != nil {
		t.Config = d.decodeConfig(cb.Body, true)
		if t.Driver == "docker" {
			d.checkDockerConfigKeys(cb.Body)
		}
	}
	if rb := d.single(content.Blocks.OfType("resources")); rb != nil {
		t.Resources = d.decodeResources(rb)
	}
	d.decodeTaskLifecycle(t, content)
	t.Services = d.decodeServices(content)
	d.decodeVolumeMounts(t, content)
	return t
}

var resourcesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "cpu"}, {Name: "memory"}, {Name: "memory_max"}, {Name: "cores"}},
}

// decodeResources decodes a task's resources block; omitted values stay
// zero for Canonicalize to fill.
func (d *decoder) decodeResources(block *hcl.Block) *structs.Resources {
	r := &structs.Resources{}
	content, diags := block.Body.Content(resourcesSchema)
	d.diags = append(d.diags, diags...)
	d.setInt(content.Attributes, "cpu", &r.CPU)
	d.setInt(content.Attributes, "memory", &r.MemoryMB)
	d.setInt(content.Attributes, "memory_max", &r.MemoryMaxMB)
	d.setInt(content.Attributes, "cores", &r.Cores)
	return r
}

// configTypes are the types of the docker config keys the parser checks
// itself, converting as it goes (args = [8080] becomes ["8080"]). Every
// other key is kept as it is for the driver to validate.
var configTypes = map[string]struct {
	ty   cty.Type
	want string
}{
	"image":      {cty.String, "string"},
	"command":    {cty.String, "string"},
	"args":       {cty.List(cty.String), "list of string"},
	"entrypoint": {cty.List(cty.String), "list of string"},
	"ports":      {cty.List(cty.String), "list of string"},
	"labels":     {cty.Map(cty.String), "map of string"},

	// The docker driver's other keys of a simple type (see
	// structs.DockerConfigKeys and the docker driver page).
	"work_dir":           {cty.String, "string"},
	"hostname":           {cty.String, "string"},
	"pull_policy":        {cty.String, "string"},
	"image_pull_timeout": {cty.String, "string"},
	"privileged":         {cty.Bool, "bool"},
	"readonly_rootfs":    {cty.Bool, "bool"},
	"init":               {cty.Bool, "bool"},
	"tty":                {cty.Bool, "bool"},
	"interactive":        {cty.Bool, "bool"},
	"force_pull":         {cty.Bool, "bool"},
	"dns_servers":        {cty.List(cty.String), "list of string"},
	"dns_search_domains": {cty.List(cty.String), "list of string"},
	"dns_options":        {cty.List(cty.String), "list of string"},
	"extra_hosts":        {cty.List(cty.String), "list of string"},
	"cap_add":            {cty.List(cty.String), "list of string"},
	"cap_drop":           {cty.List(cty.String), "list of string"},
	"security_opt":       {cty.List(cty.String), "list of string"},
	"volumes":            {cty.List(cty.String), "list of string"},
	"sysctl":             {cty.Map(cty.String), "map of string"},
}

// decodeConfig decodes a task's driver config into JSON-shaped values.
// An argument becomes its value. A nested block, which may repeat
// (mount { ... } mount { ... }), becomes a []any with one map[string]any
// per block, decoded by the same rules; so logging { type = "json-file" }
// is {"logging": [{"type": "json-file"}]}. A block is a list even when
// written once, so a driver reads one shape however often it repeats.
//
// top is true for the config block itself, whose known keys are checked.
func (d *decoder) decodeConfig(body hcl.Body, top bool) map[string]any {
	syntax, ok := body.(*hclsyntax.Body)
	if !ok { // only reachable with a non-native body, which Parse never makes
		d.diags = append(d.diags, errorAt(body.MissingItemRange(), "Unsupported config", "config must be written in HCL native syntax."))
		return nil
	}
	out := map[string]any{}
	defined := map[string]hcl.Range{}
	attrs := make(hcl.Attributes, len(syntax.Attributes))
	for name, attr := range syntax.Attributes {
		attrs[name] = attr.AsHCLAttribute()
	}
	for _, attr := range sortedAttributes(attrs) {
		defined[attr.Name] = attr.NameRange
		if v, ok := d.configValue(attr, top); ok {
			out[attr.Name] = v
		}
	}
	for _, block := range syntax.Blocks {
		if len(block.Labels) > 0 {
			d.diags = append(d.diags, errorAt(block.LabelRanges[0], "Extraneous label for "+block.Type,
				"Blocks inside config take no labels."))
			continue
		}
		if first, dup := defined[block.Type]; dup {
			d.diags = append(d.diags, errorAt(block.TypeRange, "Duplicate config key",
				"%q is already set as an argument at %s; use either the block or the argument, not both.",
				block.Type, rangeString(first)))
			continue
		}
		list, _ := out[block.Type].([]any)
		out[block.Type] = append(list, d.decodeConfig(block.Body, false))
	}
	return out
}

// configValue evaluates one config argument; null means absent.
func (d *decoder) configValue(attr *hcl.Attribute, top bool) (any, bool) {
	val, ok := d.eval(attr.Expr)
	if !ok || val.IsNull() {
		return nil, false
	}
	if known, checked := configTypes[attr.Name]; checked && top {
		conv, err := convert.Convert(val, known.ty)
		if err != nil {
			d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Incorrect attribute value type",
				"Inappropriate value for config %q: %s required.", attr.Name, known.want))
			return nil, false
		}
		val = conv
	}
	v, err := jsonValue(val)
	if err != nil {
		d.diags = append(d.diags, errorAt(attr.Expr.Range(), "Unsupported config value", "config %q: %v.", attr.Name, err))
		return nil, false
	}
	return v, true
}
