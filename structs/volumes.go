package structs

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// This file holds what a task group shares beyond its network: volumes,
// the ephemeral disk, and the group network's DNS settings. JSON shapes
// are Nomad's.

// Volume types a group may request.
const (
	VolumeTypeHost = "host"
)

// VolumeRequest is a group's `volume "name" { ... }` block: the group asks
// for a volume the node provides (type host: a client's host_volume named
// Source).
type VolumeRequest struct {
	Name     string
	Type     string
	Source   string
	ReadOnly bool
}

// VolumeMount is a task's `volume_mount` block: where a volume of the
// group appears in the task.
type VolumeMount struct {
	Volume          string
	Destination     string
	ReadOnly        bool
	PropagationMode string `json:",omitempty"`
}

// ClientHostVolumeConfig is a directory of the node that groups may mount,
// declared by the operator in the client's `host_volume` block.
type ClientHostVolumeConfig struct {
	Name     string
	Path     string
	ReadOnly bool
}

// EphemeralDisk is a group's `ephemeral_disk` block: the size of the
// allocation's data, and whether a replacement on the same node keeps it.
type EphemeralDisk struct {
	Sticky  bool
	SizeMB  int
	Migrate bool
}

// DefaultEphemeralDiskMB is Nomad's default ephemeral disk size.
const DefaultEphemeralDiskMB = 300

// DNSConfig is the `dns` block of a group network.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// Copy returns a copy.
func (v *VolumeRequest) Copy() *VolumeRequest {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// Copy returns a copy.
func (m *VolumeMount) Copy() *VolumeMount {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

// Copy returns a copy.
func (h *ClientHostVolumeConfig) Copy() *ClientHostVolumeConfig {
	if h == nil {
		return nil
	}
	c := *h
	return &c
}

// Copy returns a copy.
func (e *EphemeralDisk) Copy() *EphemeralDisk {
	if e == nil {
		return nil
	}
	c := *e
	return &c
}

// Copy returns a deep copy.
func (d *DNSConfig) Copy() *DNSConfig {
	if d == nil {
		return nil
	}
	return &DNSConfig{
		Servers:  slices.Clone(d.Servers),
		Searches: slices.Clone(d.Searches),
		Options:  slices.Clone(d.Options),
	}
}

func copyVolumeRequests(m map[string]*VolumeRequest) map[string]*VolumeRequest {
	if m == nil {
		return nil
	}
	out := make(map[string]*VolumeRequest, len(m))
	for k, v := range m {
		out[k] = v.Copy()
	}
	return out
}

func copyVolumeMounts(ms []*VolumeMount) []*VolumeMount {
	if ms == nil {
		return nil
	}
	out := make([]*VolumeMount, len(ms))
	for i, m := range ms {
		out[i] = m.Copy()
	}
	return out
}

// CopyHostVolumes deep-copies a node's host volumes.
func CopyHostVolumes(m map[string]*ClientHostVolumeConfig) map[string]*ClientHostVolumeConfig {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range m {
		out[k] = v.Copy()
	}
	return out
}

// canonicalizeStorage fills the group's ephemeral disk default and names
// its volume requests after their labels.
func (tg *TaskGroup) canonicalizeStorage() {
	if tg.EphemeralDisk == nil {
		tg.EphemeralDisk = &EphemeralDisk{}
	}
	if tg.EphemeralDisk.SizeMB == 0 {
		tg.EphemeralDisk.SizeMB = DefaultEphemeralDiskMB
	}
	for name, v := range tg.Volumes {
		if v != nil && v.Name == "" {
			v.Name = name
		}
	}
}

// validateStorage checks the group's volumes, ephemeral disk, the tasks'
// volume mounts against the volumes, and the network's DNS block.
func (tg *TaskGroup) validateStorage() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, name := range slices.Sorted(maps.Keys(tg.Volumes)) {
		v := tg.Volumes[name]
		switch {
		case v == nil:
			add("volume %q: empty", name)
			continue
		case v.Type != VolumeTypeHost:
			add("volume %q: type must be %q, got %q", name, VolumeTypeHost, v.Type)
		}
		if v.Source == "" {
			add("volume %q: source (the client's host_volume name) is required", name)
		}
	}
	if d := tg.EphemeralDisk; d != nil && d.SizeMB < 0 {
		add("ephemeral_disk: size must not be negative")
	}
	for _, t := range tg.Tasks {
		for i, m := range t.VolumeMounts {
			if m == nil {
				continue
			}
			where := fmt.Sprintf("task %q: volume_mount[%d]", t.Name, i)
			if tg.Volumes[m.Volume] == nil {
				add("%s: volume %q is not declared in the group", where, m.Volume)
			}
			if !path.IsAbs(m.Destination) {
				add("%s: destination %q must be an absolute path", where, m.Destination)
			}
		}
	}
	for _, n := range tg.Networks {
		if n.DNS == nil {
			continue
		}
		for _, s := range n.DNS.Servers {
			if strings.TrimSpace(s) == "" {
				add("network: dns: empty server")
			}
		}
	}
	return errs
}
