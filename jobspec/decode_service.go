package jobspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-project/drover/structs"
)

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "port"}, {Name: "tags"}, {Name: "canary_tags"}, {Name: "meta"},
		{Name: "address_mode"}, {Name: "address"}, {Name: "provider"}, {Name: "on_update"}, {Name: "task"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "check"}, {Type: "meta"}, {Type: "ingress"}},
}

// decodeServices decodes the `service` blocks of a group or a task.
func (d *decoder) decodeServices(content *hcl.BodyContent) []*structs.Service {
	var out []*structs.Service
	for _, block := range content.Blocks.OfType("service") {
		out = append(out, d.decodeService(block))
	}
	return out
}

func (d *decoder) decodeService(block *hcl.Block) *structs.Service {
	s := &structs.Service{}
	content, diags := block.Body.Content(serviceSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.setString(attrs, "name", &s.Name)
	d.setString(attrs, "port", &s.PortLabel)
	d.setStrings(attrs, "tags", &s.Tags)
	d.setStrings(attrs, "canary_tags", &s.CanaryTags)
	d.setString(attrs, "address_mode", &s.AddressMode)
	d.setString(attrs, "address", &s.Address)
	d.setString(attrs, "provider", &s.Provider)
	d.setString(attrs, "on_update", &s.OnUpdate)
	d.setString(attrs, "task", &s.TaskName)
	s.Meta = d.stringMap(content, "meta")
	for _, cb := range content.Blocks.OfType("check") {
		s.Checks = append(s.Checks, d.decodeCheck(cb))
	}
	if ib := d.single(content.Blocks.OfType("ingress")); ib != nil {
		s.Ingress = d.decodeIngress(ib)
	}
	return s
}

var ingressSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "port", Required: true}, {Name: "protocol"}, {Name: "algorithm"}, {Name: "proxy_protocol"}},
}

// decodeIngress reads drover's `ingress` block of a service.
func (d *decoder) decodeIngress(block *hcl.Block) *structs.ServiceIngress {
	in := &structs.ServiceIngress{}
	content, diags := block.Body.Content(ingressSchema)
	d.diags = append(d.diags, diags...)
	d.setInt(content.Attributes, "port", &in.Port)
	d.setString(content.Attributes, "protocol", &in.Protocol)
	d.setString(content.Attributes, "algorithm", &in.Algorithm)
	d.setBool(content.Attributes, "proxy_protocol", &in.ProxyProtocol)
	return in
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "type"}, {Name: "command"}, {Name: "args"}, {Name: "path"},
		{Name: "method"}, {Name: "body"}, {Name: "protocol"}, {Name: "port"}, {Name: "address_mode"},
		{Name: "interval"}, {Name: "timeout"}, {Name: "initial_status"}, {Name: "task"},
		{Name: "grpc_service"}, {Name: "grpc_use_tls"}, {Name: "tls_skip_verify"},
		{Name: "expected_status"}, {Name: "success_before_passing"}, {Name: "failures_before_critical"},
		{Name: "on_update"}, {Name: "header"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "check_restart"}, {Type: "header"}},
}

func (d *decoder) decodeCheck(block *hcl.Block) *structs.ServiceCheck {
	c := &structs.ServiceCheck{}
	content, diags := block.Body.Content(checkSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes
	d.setString(attrs, "name", &c.Name)
	d.setString(attrs, "type", &c.Type)
	d.setString(attrs, "command", &c.Command)
	d.setStrings(attrs, "args", &c.Args)
	d.setString(attrs, "path", &c.Path)
	d.setString(attrs, "method", &c.Method)
	d.setString(attrs, "body", &c.Body)
	d.setString(attrs, "protocol", &c.Protocol)
	d.setString(attrs, "port", &c.PortLabel)
	d.setString(attrs, "address_mode", &c.AddressMode)
	d.setDuration(attrs, "interval", &c.Interval)
	d.setDuration(attrs, "timeout", &c.Timeout)
	d.setString(attrs, "initial_status", &c.InitialStatus)
	d.setString(attrs, "task", &c.TaskName)
	d.setString(attrs, "grpc_service", &c.GRPCService)
	d.setBool(attrs, "grpc_use_tls", &c.GRPCUseTLS)
	d.setBool(attrs, "tls_skip_verify", &c.TLSSkipVerify)
	d.setInt(attrs, "expected_status", &c.ExpectedStatus)
	d.setInt(attrs, "success_before_passing", &c.SuccessBeforePassing)
	d.setInt(attrs, "failures_before_critical", &c.FailuresBeforeCritical)
	d.setString(attrs, "on_update", &c.OnUpdate)
	c.Header = d.decodeHeader(content)
	if rb := d.single(content.Blocks.OfType("check_restart")); rb != nil {
		c.CheckRestart = d.decodeCheckRestart(rb)
	}
	return c
}

// decodeHeader reads `header { Name = ["value", ...] }` (Nomad's form) or
// the same map written as an attribute.
func (d *decoder) decodeHeader(content *hcl.BodyContent) map[string][]string {
	if attr := content.Attributes["header"]; attr != nil {
		val, ok := d.value(attr, cty.Map(cty.List(cty.String)), "map of list of string")
		if !ok {
			return nil
		}
		out := map[string][]string{}
		for k, list := range val.AsValueMap() {
			for _, v := range list.AsValueSlice() {
				out[k] = append(out[k], v.AsString())
			}
		}
		return out
	}
	block := d.single(content.Blocks.OfType("header"))
	if block == nil {
		return nil
	}
	attrs, diags := block.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	out := map[string][]string{}
	for _, a := range sortedAttributes(attrs) {
		var vals []string
		d.setStrings(hcl.Attributes{a.Name: a}, a.Name, &vals)
		out[a.Name] = vals
	}
	return out
}

var checkRestartSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "limit"}, {Name: "grace"}, {Name: "ignore_warnings"}},
}

func (d *decoder) decodeCheckRestart(block *hcl.Block) *structs.CheckRestart {
	r := &structs.CheckRestart{}
	content, diags := block.Body.Content(checkRestartSchema)
	d.diags = append(d.diags, diags...)
	d.setInt(content.Attributes, "limit", &r.Limit)
	d.setDuration(content.Attributes, "grace", &r.Grace)
	d.setBool(content.Attributes, "ignore_warnings", &r.IgnoreWarnings)
	return r
}
