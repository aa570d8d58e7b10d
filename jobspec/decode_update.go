package jobspec

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-project/drover/structs"
)

var updateBlock = hcl.BlockHeaderSchema{Type: "update"}

var updateSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "stagger"}, {Name: "max_parallel"}, {Name: "health_check"}, {Name: "min_healthy_time"},
		{Name: "healthy_deadline"}, {Name: "progress_deadline"}, {Name: "auto_revert"},
		{Name: "auto_promote"}, {Name: "canary"},
	},
}

// decodeUpdate decodes a job's or group's update block with only what it
// sets: Canonicalize merges a group's over its job's over Nomad's defaults
// (structs.DefaultUpdateStrategy). An explicit max_parallel = 0, which
// turns deployments off, is kept as -1 so that the merge does not take it
// for unset. Nil without a block.
func (d *decoder) decodeUpdate(content *hcl.BodyContent) *structs.UpdateStrategy {
	block := d.single(content.Blocks.OfType("update"))
	if block == nil {
		return nil
	}
	u := &structs.UpdateStrategy{}
	body, diags := block.Body.Content(updateSchema)
	d.diags = append(d.diags, diags...)
	attrs := body.Attributes
	d.setDuration(attrs, "stagger", &u.Stagger)
	if d.setInt(attrs, "max_parallel", &u.MaxParallel) && u.MaxParallel == 0 {
		u.MaxParallel = -1
	}
	d.setString(attrs, "health_check", &u.HealthCheck)
	d.setDuration(attrs, "min_healthy_time", &u.MinHealthyTime)
	d.setDuration(attrs, "healthy_deadline", &u.HealthyDeadline)
	d.setDuration(attrs, "progress_deadline", &u.ProgressDeadline)
	d.setBool(attrs, "auto_revert", &u.AutoRevert)
	d.setBool(attrs, "auto_promote", &u.AutoPromote)
	d.setInt(attrs, "canary", &u.Canary)
	switch u.HealthCheck {
	case "", structs.UpdateHealthCheckChecks, structs.UpdateHealthCheckTaskStates, structs.UpdateHealthCheckManual:
	default:
		d.diags = append(d.diags, errorAt(attrs["health_check"].Expr.Range(), "Invalid update block",
			`health_check must be "checks", "task_states" or "manual", not %q.`, u.HealthCheck))
	}
	return u
}
