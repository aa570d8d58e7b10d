// Package taskenv builds a task's environment (Nomad's NOMAD_* variables,
// each with a DROVER_* twin) and interpolates ${...} references to it and to
// the node in the task's env and driver config. The jobspec keeps those
// references literal because only the client knows their values.
package taskenv

import (
	"maps"
	"strconv"
	"strings"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// Prefixes of the variables the client sets: every NOMAD_ variable has a
// DROVER_ twin with the same value.
const (
	nomadPrefix  = "NOMAD_"
	droverPrefix = "DROVER_"
)

// Env is one task's environment plus the node it runs on.
type Env struct {
	vars map[string]string
	node *structs.Node
}

// Build computes the environment of task in alloc on node. hostIP is where
// ports are published when the allocation does not say.
func Build(node *structs.Node, alloc *structs.Allocation, task *structs.Task, hostIP string) *Env {
	if node == nil {
		node = &structs.Node{}
	}
	job := alloc.Job
	if job == nil {
		job = &structs.Job{ID: alloc.JobID, Name: alloc.JobID, Namespace: alloc.Namespace}
	}
	tg := job.LookupTaskGroup(alloc.TaskGroup)

	v := map[string]string{}
	v["NOMAD_ALLOC_ID"] = alloc.ID
	v["NOMAD_SHORT_ALLOC_ID"] = shortID(alloc.ID)
	v["NOMAD_ALLOC_NAME"] = alloc.Name
	v["NOMAD_ALLOC_INDEX"] = strconv.Itoa(max(alloc.Index(), 0))
	v["NOMAD_JOB_ID"] = job.ID
	v["NOMAD_JOB_NAME"] = job.Name
	v["NOMAD_GROUP_NAME"] = alloc.TaskGroup
	v["NOMAD_TASK_NAME"] = task.Name
	v["NOMAD_NAMESPACE"] = firstNonEmpty(alloc.Namespace, job.Namespace, structs.DefaultNamespace)
	v["NOMAD_REGION"] = firstNonEmpty(job.Region, structs.DefaultRegion)
	v["NOMAD_DC"] = node.Datacenter
	v["NOMAD_ALLOC_DIR"] = allocdir.SharedMountPath
	v["NOMAD_TASK_DIR"] = allocdir.LocalMountPath
	v["NOMAD_SECRETS_DIR"] = allocdir.SecretsMountPath

	cpu, mem, memMax := Limits(alloc, task)
	v["NOMAD_CPU_LIMIT"] = strconv.FormatInt(cpu, 10)
	v["NOMAD_MEMORY_LIMIT"] = strconv.FormatInt(mem, 10)
	if memMax > 0 {
		v["NOMAD_MEMORY_MAX_LIMIT"] = strconv.FormatInt(memMax, 10)
	}

	for _, p := range AllocPorts(alloc, hostIP) {
		label := envName(p.Label)
		hostPort := strconv.Itoa(p.HostPort)
		addr := p.HostIP + ":" + hostPort
		v["NOMAD_PORT_"+label] = strconv.Itoa(p.ContainerPort)
		v["NOMAD_HOST_PORT_"+label] = hostPort
		v["NOMAD_IP_"+label] = p.HostIP
		v["NOMAD_HOST_IP_"+label] = p.HostIP
		v["NOMAD_ADDR_"+label] = addr
		v["NOMAD_HOST_ADDR_"+label] = addr
	}

	// Task meta overrides group meta, which overrides job meta. Each key is
	// set as written and upper-cased, as Nomad does.
	meta := maps.Clone(job.Meta)
	if meta == nil {
		meta = map[string]string{}
	}
	if tg != nil {
		maps.Copy(meta, tg.Meta)
	}
	maps.Copy(meta, task.Meta)
	for k, val := range meta {
		v["NOMAD_META_"+envName(k)] = val
		v["NOMAD_META_"+strings.ToUpper(envName(k))] = val
	}

	twins := make(map[string]string, len(v))
	for k, val := range v {
		if rest, ok := strings.CutPrefix(k, nomadPrefix); ok {
			twins[droverPrefix+rest] = val
		}
	}
	maps.Copy(v, twins)

	env := &Env{vars: v, node: node}
	// The task's own variables may refer to the ones above and to the node;
	// they are resolved against the built-in set only, so their order does
	// not matter.
	user := make(map[string]string, len(task.Env))
	for k, val := range task.Env {
		user[k] = env.Replace(val)
	}
	maps.Copy(v, user)
	return env
}

// Limits returns the task's CPU (MHz), memory and memory max (MiB): what the
// scheduler allocated, or what the task asked for.
func Limits(alloc *structs.Allocation, task *structs.Task) (cpu, mem, memMax int64) {
	if alloc.AllocatedResources != nil {
		if r, ok := alloc.AllocatedResources.Tasks[task.Name]; ok && r != nil {
			return r.Cpu.CpuShares, r.Memory.MemoryMB, r.Memory.MemoryMaxMB
		}
	}
	if r := task.Resources; r != nil {
		return int64(r.CPU), int64(r.MemoryMB), int64(r.MemoryMaxMB)
	}
	return 0, 0, 0
}

// AllocPorts lists the group's ports as placed on the node. They come from
// AllocatedResources.Shared.Ports, or from its networks when the scheduler
// filled only those. A port inside the container is its `to`, or the host
// port when `to` is not set.
func AllocPorts(alloc *structs.Allocation, hostIP string) []driver.PortMapping {
	if alloc.AllocatedResources == nil {
		return nil
	}
	shared := alloc.AllocatedResources.Shared
	var out []driver.PortMapping
	add := func(label, ip string, value, to int) {
		out = append(out, driver.PortMapping{
			Label:         label,
			HostIP:        firstNonEmpty(ip, hostIP),
			HostPort:      value,
			ContainerPort: containerPort(value, to),
		})
	}
	if len(shared.Ports) > 0 {
		for _, p := range shared.Ports {
			add(p.Label, p.HostIP, p.Value, p.To)
		}
		return out
	}
	for _, n := range shared.Networks {
		for _, p := range n.AllPorts() {
			add(p.Label, n.IP, p.Value, p.To)
		}
	}
	return out
}

func containerPort(value, to int) int {
	if to > 0 {
		return to
	}
	return value
}

// Map returns a copy of the variables, for the driver.
func (e *Env) Map() map[string]string { return maps.Clone(e.vars) }

// Get returns one variable.
func (e *Env) Get(name string) (string, bool) {
	val, ok := e.vars[name]
	return val, ok
}

// envName replaces the characters Nomad does not keep in variable names
// (anything but letters, digits, '_' and '.') with '_'.
func envName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
