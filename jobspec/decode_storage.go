package jobspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-project/drover/structs"
)

// This file decodes what a group shares besides ports: volume and
// ephemeral_disk blocks, the tasks' volume_mount blocks, the network's dns
// block, and checks the names used in a docker config block.

var volumeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "source"}, {Name: "read_only"}},
}

// decodeGroupStorage decodes a group's volume and ephemeral_disk blocks.
func (d *decoder) decodeGroupStorage(tg *structs.TaskGroup, content *hcl.BodyContent) {
	seen := map[string]hcl.Range{}
	for _, vb := range content.Blocks.OfType("volume") {
		if !d.uniqueLabel(seen, vb) {
			continue
		}
		v := &structs.VolumeRequest{Name: vb.Labels[0]}
		vc, diags := vb.Body.Content(volumeSchema)
		d.diags = append(d.diags, diags...)
		d.setString(vc.Attributes, "type", &v.Type)
		d.setString(vc.Attributes, "source", &v.Source)
		d.setBool(vc.Attributes, "read_only", &v.ReadOnly)
		if v.Type != structs.VolumeTypeHost {
			rng := vb.DefRange
			if a := vc.Attributes["type"]; a != nil {
				rng = a.Expr.Range()
			}
			d.diags = append(d.diags, errorAt(rng, "Unsupported volume type",
				`drover mounts client host volumes: set type = "host", not %q.`, v.Type))
		}
		if tg.Volumes == nil {
			tg.Volumes = map[string]*structs.VolumeRequest{}
		}
		tg.Volumes[v.Name] = v
	}
	if eb := d.single(content.Blocks.OfType("ephemeral_disk")); eb != nil {
		tg.EphemeralDisk = d.decodeEphemeralDisk(eb)
	}
}

var ephemeralDiskSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "size"}, {Name: "sticky"}, {Name: "migrate"}},
}

func (d *decoder) decodeEphemeralDisk(block *hcl.Block) *structs.EphemeralDisk {
	e := &structs.EphemeralDisk{}
	content, diags := block.Body.Content(ephemeralDiskSchema)
	d.diags = append(d.diags, diags...)
	d.setInt(content.Attributes, "size", &e.SizeMB)
	d.setBool(content.Attributes, "sticky", &e.Sticky)
	d.setBool(content.Attributes, "migrate", &e.Migrate)
	return e
}

var volumeMountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "volume", Required: true}, {Name: "destination", Required: true},
		{Name: "read_only"}, {Name: "propagation_mode"},
	},
}

// decodeVolumeMounts decodes a task's volume_mount blocks.
func (d *decoder) decodeVolumeMounts(t *structs.Task, content *hcl.BodyContent) {
	for _, mb := range content.Blocks.OfType("volume_mount") {
		m := &structs.VolumeMount{}
		mc, diags := mb.Body.Content(volumeMountSchema)
		d.diags = append(d.diags, diags...)
		d.setString(mc.Attributes, "volume", &m.Volume)
		d.setString(mc.Attributes, "destination", &m.Destination)
		d.setBool(mc.Attributes, "read_only", &m.ReadOnly)
		d.setString(mc.Attributes, "propagation_mode", &m.PropagationMode)
		t.VolumeMounts = append(t.VolumeMounts, m)
	}
}

var dnsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "servers"}, {Name: "searches"}, {Name: "options"}},
}

// decodeDNS decodes a network's dns block.
func (d *decoder) decodeDNS(n *structs.NetworkResource, content *hcl.BodyContent) {
	db := d.single(content.Blocks.OfType("dns"))
	if db == nil {
		return
	}
	n.DNS = &structs.DNSConfig{}
	dc, diags := db.Body.Content(dnsSchema)
	d.diags = append(d.diags, diags...)
	d.setStrings(dc.Attributes, "servers", &n.DNS.Servers)
	d.setStrings(dc.Attributes, "searches", &n.DNS.Searches)
	d.setStrings(dc.Attributes, "options", &n.DNS.Options)
}

// checkDockerConfigKeys reports every key of a docker config block that
// the driver does not implement, at the key's position.
func (d *decoder) checkDockerConfigKeys(body hcl.Body) {
	syntax, ok := body.(*hclsyntax.Body)
	if !ok {
		return // decodeConfig reports it
	}
	for _, attr := range sortedAttributes(attrsOf(syntax)) {
		if _, known := structs.DockerConfigKeys[attr.Name]; !known {
			d.diags = append(d.diags, errorAt(attr.NameRange, "Unsupported docker option",
				"The docker driver has no option %q; see the docker driver page for the options drover supports.", attr.Name))
		}
	}
	for _, block := range syntax.Blocks {
		if _, known := structs.DockerConfigKeys[block.Type]; !known {
			d.diags = append(d.diags, errorAt(block.TypeRange, "Unsupported docker option",
				"The docker driver has no option %q; see the docker driver page for the options drover supports.", block.Type))
		}
	}
}

func attrsOf(body *hclsyntax.Body) hcl.Attributes {
	attrs := make(hcl.Attributes, len(body.Attributes))
	for name, attr := range body.Attributes {
		attrs[name] = attr.AsHCLAttribute()
	}
	return attrs
}
