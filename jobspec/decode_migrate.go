package jobspec

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-project/drover/structs"
)

var migrateBlock = hcl.BlockHeaderSchema{Type: "migrate"}

var migrateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "max_parallel"}, {Name: "health_check"}, {Name: "min_healthy_time"}, {Name: "healthy_deadline"},
	},
}

// decodeMigrate decodes a group's migrate block over Nomad's defaults
// (max_parallel 1, "checks", 10s, 5m); nil without a block, so that
// Canonicalize gives the job type's default.
func (d *decoder) decodeMigrate(content *hcl.BodyContent) *structs.MigrateStrategy {
	block := d.single(content.Blocks.OfType("migrate"))
	if block == nil {
		return nil
	}
	m := structs.DefaultMigrateStrategy()
	body, diags := block.Body.Content(migrateSchema)
	d.diags = append(d.diags, diags...)
	d.setInt(body.Attributes, "max_parallel", &m.MaxParallel)
	d.setString(body.Attributes, "health_check", &m.HealthCheck)
	d.setDuration(body.Attributes, "min_healthy_time", &m.MinHealthyTime)
	d.setDuration(body.Attributes, "healthy_deadline", &m.HealthyDeadline)
	if err := m.Validate(); err != nil {
		d.diags = append(d.diags, errorAt(block.DefRange, "Invalid migrate block", "%v.", err))
	}
	return m
}
