package docker

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Labels drover puts on every container it creates. LabelAllocID marks a
// container as drover's: ListDroverContainers filters on it.
const (
	LabelAllocID   = "com.drover.alloc_id"
	LabelJobID     = "com.drover.job_id"
	LabelJobName   = "com.drover.job_name"
	LabelTaskGroup = "com.drover.task_group"
	LabelTaskName  = "com.drover.task_name"
	LabelNamespace = "com.drover.namespace"
)

// Engine-side log retention. drover keeps its own copy of the output in the
// allocation's log files, so the engine's json-file only needs to hold
// what was not yet copied (for instance while the client restarts).
const (
	engineLogMaxSize  = "10m"
	engineLogMaxFiles = "2"
)

// Bounds the engine enforces on CPU shares (cgroup cpu.shares).
const (
	minCPUShares = 2
	maxCPUShares = 262144
)

// ContainerName is the name of a task's container: "<task>-<allocID>".
// Names are unique per engine, so one alloc's task has one container at a
// time; characters Docker does not allow in names become "_".
func ContainerName(cfg *driver.TaskConfig) string {
	var b strings.Builder
	for i, r := range cfg.TaskName {
		ok := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && (r == '_' || r == '.' || r == '-'))
		if !ok {
			r = '_'
		}
		if i == 0 && !ok {
			// A name must start with a letter or digit.
			b.WriteByte('t')
		}
		b.WriteRune(r)
	}
	return b.String() + "-" + cfg.AllocID
}

// containerConfig translates a task into the engine's container config. It
// is pure so the translation is tested without an engine.
//
// Nomad's docker driver semantics are kept:
//   - `command` replaces the image's CMD: Cmd = [command] + args; `args`
//     without `command` replace CMD with args alone.
//   - `entrypoint` replaces the image's ENTRYPOINT.
//   - Only the ports listed in the task's config.ports (cfg.PortLabels) are
//     published; with none listed nothing is published, as in Nomad (a
//     task must opt in to exposing a port on the host). Each is published
//     for both tcp and udp, HostIP:HostPort → ContainerPort.
//   - The job's labels are kept, but cannot override drover's own labels.
func containerConfig(cfg *driver.TaskConfig) (*container.Config, *container.HostConfig, error) {
	if cfg.Image == "" {
		return nil, nil, errors.New("image is required")
	}
	if cfg.AllocID == "" || cfg.TaskName == "" {
		return nil, nil, errors.New("alloc ID and task name are required")
	}

	labels := maps.Clone(cfg.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, map[string]string{
		LabelAllocID:   cfg.AllocID,
		LabelJobID:     cfg.JobID,
		LabelJobName:   cfg.JobName,
		LabelTaskGroup: cfg.GroupName,
		LabelTaskName:  cfg.TaskName,
		LabelNamespace: cfg.Namespace,
	})

	// Sorted, so equal configs give equal containers (and readable inspects).
	env := make([]string, 0, len(cfg.Env))
	for _, k := range slices.Sorted(maps.Keys(cfg.Env)) {
		env = append(env, k+"="+cfg.Env[k])
	}

	cc := &container.Config{
		Image:      cfg.Image,
		Env:        env,
		Labels:     labels,
		Entrypoint: slices.Clone(cfg.Entrypoint),
	}
	switch {
	case cfg.Command != "":
		cc.Cmd = append([]string{cfg.Command}, cfg.Args...)
	case len(cfg.Args) > 0:
		cc.Cmd = slices.Clone(cfg.Args)
	}

	hc := &container.HostConfig{
		// drover restarts tasks itself, according to the job's restart
		// policy; an engine restart policy would fight it.
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		LogConfig: container.LogConfig{
			// The driver reads output back through the engine's logs
			// endpoint, which needs a driver that keeps a readable log.
			Type:   "json-file",
			Config: map[string]string{"max-size": engineLogMaxSize, "max-file": engineLogMaxFiles},
		},
	}
	if cfg.MemoryMB > 0 {
		hc.Memory = int64(cfg.MemoryMB) << 20
	}
	if cfg.CPUShares > 0 {
		hc.CPUShares = int64(min(max(cfg.CPUShares, minCPUShares), maxCPUShares))
	}

	ports, bindings, err := publishedPorts(cfg)
	if err != nil {
		return nil, nil, err
	}
	cc.ExposedPorts = ports
	hc.PortBindings = bindings
	return cc, hc, nil
}

// publishedPorts maps the task's listed ports to the engine's port set and
// bindings.
func publishedPorts(cfg *driver.TaskConfig) (network.PortSet, network.PortMap, error) {
	if len(cfg.PortLabels) == 0 {
		return nil, nil, nil
	}
	byLabel := make(map[string]driver.PortMapping, len(cfg.Ports))
	for _, p := range cfg.Ports {
		byLabel[p.Label] = p
	}
	set := network.PortSet{}
	bindings := network.PortMap{}
	for _, label := range cfg.PortLabels {
		m, ok := byLabel[label]
		if !ok {
			return nil, nil, fmt.Errorf("port %q is not in the group's network block", label)
		}
		to := m.ContainerPort
		if to == 0 {
			to = m.HostPort
		}
		// A host port of 0 would let the engine pick one that drover (and
		// the service catalog) would not know about.
		if to <= 0 || to > 65535 || m.HostPort <= 0 || m.HostPort > 65535 {
			return nil, nil, fmt.Errorf("port %q: invalid mapping %d -> %d", label, m.HostPort, to)
		}
		var hostIP netip.Addr
		if m.HostIP != "" {
			ip, err := netip.ParseAddr(m.HostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("port %q: host IP: %w", label, err)
			}
			hostIP = ip
		}
		binding := network.PortBinding{HostIP: hostIP, HostPort: strconv.Itoa(m.HostPort)}
		for _, proto := range []network.IPProtocol{network.TCP, network.UDP} {
			p, _ := network.PortFrom(uint16(to), proto)
			set[p] = struct{}{}
			bindings[p] = append(bindings[p], binding)
		}
	}
	return set, bindings, nil
}
