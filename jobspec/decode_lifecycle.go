package jobspec

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-project/drover/structs"
)

// attemptsUnset marks a task restart block without `attempts` until
// mergeTaskRestarts gives it the group's; it never leaves this package.
const attemptsUnset = -1

var lifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "hook", Required: true}, {Name: "sidecar"}},
}

// decodeTaskLifecycle decodes a task's lifecycle block, its restart block
// and shutdown_delay.
func (d *decoder) decodeTaskLifecycle(t *structs.Task, content *hcl.BodyContent) {
	d.setDuration(content.Attributes, "shutdown_delay", &t.ShutdownDelay)
	if lb := d.single(content.Blocks.OfType("lifecycle")); lb != nil {
		lc, diags := lb.Body.Content(lifecycleSchema)
		d.diags = append(d.diags, diags...)
		t.Lifecycle = &structs.TaskLifecycleConfig{}
		d.setString(lc.Attributes, "hook", &t.Lifecycle.Hook)
		d.setBool(lc.Attributes, "sidecar", &t.Lifecycle.Sidecar)
		switch t.Lifecycle.Hook {
		case "", structs.TaskLifecycleHookPrestart, structs.TaskLifecycleHookPoststart, structs.TaskLifecycleHookPoststop:
		default:
			d.diags = append(d.diags, errorAt(lc.Attributes["hook"].Expr.Range(), "Invalid lifecycle hook",
				`hook must be "prestart", "poststart" or "poststop", not %q.`, t.Lifecycle.Hook))
		}
	}
	if rb := d.single(content.Blocks.OfType("restart")); rb != nil {
		p := &structs.RestartPolicy{}
		rc, diags := rb.Body.Content(restartSchema)
		d.diags = append(d.diags, diags...)
		if !d.setInt(rc.Attributes, "attempts", &p.Attempts) {
			p.Attempts = attemptsUnset
		}
		d.setDuration(rc.Attributes, "interval", &p.Interval)
		d.setDuration(rc.Attributes, "delay", &p.Delay)
		d.setString(rc.Attributes, "mode", &p.Mode)
		t.RestartPolicy = p
	}
}

// mergeTaskRestarts merges each task's restart block over its group's, as
// Nomad does: what the task leaves out comes from the group (or from the
// job type's defaults when the group has no restart block either).
func mergeTaskRestarts(tg *structs.TaskGroup, jobType string) {
	group := tg.RestartPolicy.Merge(structs.DefaultRestartPolicy(jobType))
	for _, t := range tg.Tasks {
		p := t.RestartPolicy
		if p == nil {
			continue
		}
		if p.Attempts == attemptsUnset {
			p.Attempts = group.Attempts
		}
		t.RestartPolicy = p.Merge(group)
	}
}
