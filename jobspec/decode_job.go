package jobspec

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/drover-project/drover/structs"
)

var jobSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "type"}, {Name: "datacenters"}, {Name: "region"},
		{Name: "namespace"}, {Name: "priority"}, {Name: "node_pool"}, {Name: "meta"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "group", LabelNames: []string{"name"}},
		{Type: "meta"},
		constraintBlock, affinityBlock, spreadBlock, rescheduleBlock,
		updateBlock,
	},
}

// decodeJob decodes `job "id" { ... }`. Name defaults to the ID here
// because Nomad's parser does so; everything else is left for Canonicalize.
func (d *decoder) decodeJob(block *hcl.Block) *structs.Job {
	job := &structs.Job{ID: block.Labels[0], Name: block.Labels[0]}
	content, diags := block.Body.Content(jobSchema)
	d.diags = append(d.diags, diags...)

	attrs := content.Attributes
	d.setString(attrs, "name", &job.Name)
	d.setString(attrs, "type", &job.Type)
	d.setStrings(attrs, "datacenters", &job.Datacenters)
	d.setString(attrs, "region", &job.Region)
	d.setString(attrs, "namespace", &job.Namespace)
	d.setInt(attrs, "priority", &job.Priority)
	d.setString(attrs, "node_pool", &job.NodePool)
	job.Meta = d.stringMap(content, "meta")
	job.Constraints = d.decodeConstraints(content)
	job.Affinities = d.decodeAffinities(content)
	job.Spreads = d.decodeSpreads(content)
	job.Update = d.decodeUpdate(content)

	switch job.Type {
	case "", structs.JobTypeService, structs.JobTypeBatch, structs.JobTypeSystem, structs.JobTypeSysBatch:
	default:
		d.diags = append(d.diags, errorAt(attrs["type"].Expr.Range(), "Unsupported job type",
			`drover runs "service", "batch", "system" and "sysbatch" jobs, not %q.`, job.Type))
	}

	// A job-level reschedule block is the base of every group's.
	var reschedule *structs.ReschedulePolicy
	if len(content.Blocks.OfType("reschedule")) > 0 {
		reschedule = d.decodeReschedule(content, structs.DefaultReschedulePolicy(typeOrService(job.Type)))
	}
	seen := map[string]hcl.Range{}
	for _, g := range content.Blocks.OfType("group") {
		if d.uniqueLabel(seen, g) {
			tg := d.decodeGroup(g, job.Type)
			tg.ReschedulePolicy = d.groupReschedule(g, typeOrService(job.Type), reschedule)
			job.TaskGroups = append(job.TaskGroups, tg)
		}
	}
	return job
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "count"}, {Name: "meta"}, {Name: "shutdown_delay"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "task", LabelNames: []string{"name"}},
		{Type: "network"},
		{Type: "restart"},
		{Type: "volume", LabelNames: []string{"name"}}, {Type: "ephemeral_disk"},
		{Type: "meta"},
		{Type: "service"},
		constraintBlock, affinityBlock, spreadBlock, rescheduleBlock,
		migrateBlock, updateBlock,
	},
}

// decodeGroup decodes `group "name" { ... }`. A group without count runs
// one instance, as in Nomad; structs cannot tell an omitted count from
// count = 0, so the default is applied here.
func (d *decoder) decodeGroup(block *hcl.Block, jobType string) *structs.TaskGroup {
	tg := &structs.TaskGroup{Name: block.Labels[0]}
	content, diags := block.Body.Content(groupSchema)
	d.diags = append(d.diags, diags...)

	if !d.setInt(content.Attributes, "count", &tg.Count) {
		tg.Count = 1
	}
	tg.Meta = d.stringMap(content, "meta")
	tg.Constraints = d.decodeConstraints(content)
	tg.Affinities = d.decodeAffinities(content)
	tg.Spreads = d.decodeSpreads(content)
	d.setDuration(content.Attributes, "shutdown_delay", &tg.ShutdownDelay)
	tg.Migrate = d.decodeMigrate(content)
	tg.Update = d.decodeUpdate(content)
	d.decodeGroupStorage(tg, content)
	tg.Services = d.decodeServices(content)
	if nb := d.single(content.Blocks.OfType("network")); nb != nil {
		tg.Networks = []*structs.NetworkResource{d.decodeNetwork(nb)}
	}
	if rb := d.single(content.Blocks.OfType("restart")); rb != nil {
		tg.RestartPolicy = d.decodeRestart(rb, jobType)
	}

	seen := map[string]hcl.Range{}
	for _, t := range content.Blocks.OfType("task") {
		if d.uniqueLabel(seen, t) {
			tg.Tasks = append(tg.Tasks, d.decodeTask(t))
		}
	}
	mergeTaskRestarts(tg, jobType)
	return tg
}

var networkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "mode"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "port", LabelNames: []string{"label"}}, {Type: "dns"}},
}

var portSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "static"}, {Name: "to"}, {Name: "host_network"}},
}

// decodeNetwork decodes a group's network block. A port with `static` is
// reserved at that host port; any other port is dynamic and the scheduler
// picks its host port.
func (d *decoder) decodeNetwork(block *hcl.Block) *structs.NetworkResource {
	n := &structs.NetworkResource{}
	content, diags := block.Body.Content(networkSchema)
	d.diags = append(d.diags, diags...)
	d.setString(content.Attributes, "mode", &n.Mode)
	d.decodeDNS(n, content)

	seen := map[string]hcl.Range{}
	for _, pb := range content.Blocks.OfType("port") {
		if !d.uniqueLabel(seen, pb) {
			continue
		}
		port := structs.Port{Label: pb.Labels[0]}
		pc, diags := pb.Body.Content(portSchema)
		d.diags = append(d.diags, diags...)
		d.setInt(pc.Attributes, "to", &port.To)
		d.setString(pc.Attributes, "host_network", &port.HostNetwork)
		if d.setInt(pc.Attributes, "static", &port.Value) {
			n.ReservedPorts = append(n.ReservedPorts, port)
		} else {
			n.DynamicPorts = append(n.DynamicPorts, port)
		}
	}
	return n
}

var restartSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "attempts"}, {Name: "interval"}, {Name: "delay"}, {Name: "mode"}},
}

// decodeRestart decodes a group's restart block. Omitted interval, delay
// and mode stay zero for Canonicalize to fill; an omitted attempts takes
// the job type's default here, because zero attempts is a real setting.
func (d *decoder) decodeRestart(block *hcl.Block, jobType string) *structs.RestartPolicy {
	p := &structs.RestartPolicy{}
	content, diags := block.Body.Content(restartSchema)
	d.diags = append(d.diags, diags...)
	if !d.setInt(content.Attributes, "attempts", &p.Attempts) {
		p.Attempts = structs.DefaultRestartPolicy(jobType).Attempts
	}
	d.setDuration(content.Attributes, "interval", &p.Interval)
	d.setDuration(content.Attributes, "delay", &p.Delay)
	d.setString(content.Attributes, "mode", &p.Mode)
	return p
}
