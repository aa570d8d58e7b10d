package jobspec

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-project/drover/structs"
)

var rescheduleBlock = hcl.BlockHeaderSchema{Type: "reschedule"}

var rescheduleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "attempts"}, {Name: "interval"}, {Name: "delay"}, {Name: "delay_function"},
		{Name: "max_delay"}, {Name: "unlimited"},
	},
}

// decodeReschedule decodes a reschedule block over base: what the block
// leaves out keeps base's value (the job's block for a group, else the
// job type's defaults). A job type without rescheduling starts empty.
func (d *decoder) decodeReschedule(content *hcl.BodyContent, base *structs.ReschedulePolicy) *structs.ReschedulePolicy {
	block := d.single(content.Blocks.OfType("reschedule"))
	if block == nil {
		return base.Copy()
	}
	p := base.Copy()
	if p == nil {
		p = &structs.ReschedulePolicy{}
	}
	body, diags := block.Body.Content(rescheduleSchema)
	d.diags = append(d.diags, diags...)
	attrs := body.Attributes
	d.setInt(attrs, "attempts", &p.Attempts)
	d.setDuration(attrs, "interval", &p.Interval)
	d.setDuration(attrs, "delay", &p.Delay)
	d.setString(attrs, "delay_function", &p.DelayFunction)
	d.setDuration(attrs, "max_delay", &p.MaxDelay)
	d.setBool(attrs, "unlimited", &p.Unlimited)
	// Limiting attempts turns off the service default of unlimited.
	if attrs["attempts"] != nil && attrs["unlimited"] == nil {
		p.Unlimited = false
	}
	if err := p.Validate(); err != nil {
		d.diags = append(d.diags, errorAt(block.DefRange, "Invalid reschedule policy", "%v.", err))
	}
	return p
}

// groupReschedule decodes a group's reschedule block over the job's (or
// the type's defaults); without either it stays nil for Canonicalize.
func (d *decoder) groupReschedule(block *hcl.Block, jobType string, jobLevel *structs.ReschedulePolicy) *structs.ReschedulePolicy {
	content, _ := block.Body.Content(groupSchema) // diagnostics already reported by decodeGroup
	if len(content.Blocks.OfType("reschedule")) == 0 {
		return jobLevel.Copy()
	}
	base := jobLevel
	if base == nil {
		base = structs.DefaultReschedulePolicy(jobType)
	}
	return d.decodeReschedule(content, base)
}

// typeOrService is the job's type, service when the file names none.
func typeOrService(jobType string) string {
	if jobType == "" {
		return structs.JobTypeService
	}
	return jobType
}
