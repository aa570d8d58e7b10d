package agent

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/drover-project/drover/client/driver/docker"
	"github.com/drover-project/drover/structs"
)

// The parts of the agent config that say what the client's jobs may use
// of the machine: host volumes (client { host_volume "name" { ... } }) and
// the docker driver's permissions, given Nomad's way, either as
// plugin "docker" { config { ... } } or as the older client options
// (client { options = { "docker.volumes.enabled" = "true" } }).

// DockerPluginConfig is the `plugin "docker" { config { ... } }` block.
type DockerPluginConfig struct {
	AllowPrivileged *bool
	AllowCaps       []string
	AllowDevices    *bool
	VolumesEnabled  *bool
	InfraImage      string
}

type filePlugin struct {
	Name   string                    `hcl:"name,label"`
	Config *fileDockerPluginSettings `hcl:"config,block"`
}

type fileDockerPluginSettings struct {
	AllowPrivileged *bool              `hcl:"allow_privileged,optional"`
	AllowCaps       []string           `hcl:"allow_caps,optional"`
	AllowDevices    *bool              `hcl:"allow_devices,optional"`
	InfraImage      *string            `hcl:"infra_image,optional"`
	Volumes         *fileDockerVolumes `hcl:"volumes,block"`
}

type fileDockerVolumes struct {
	Enabled *bool `hcl:"enabled,optional"`
}

type fileHostVolume struct {
	Name     string `hcl:"name,label"`
	Path     string `hcl:"path"`
	ReadOnly bool   `hcl:"read_only,optional"`
}

// mergePlugins applies plugin blocks; only the docker driver has one.
func (c *Config) mergePlugins(plugins []*filePlugin) error {
	for _, p := range plugins {
		if p.Name != docker.Name {
			return fmt.Errorf("plugin %q: drover has only the %q driver", p.Name, docker.Name)
		}
		s := p.Config
		if s == nil {
			continue
		}
		d := &c.Docker
		set(&d.AllowPrivileged, &s.AllowPrivileged)
		set(&d.AllowDevices, &s.AllowDevices)
		if s.AllowCaps != nil {
			d.AllowCaps = s.AllowCaps
		}
		set(&d.InfraImage, s.InfraImage)
		if s.Volumes != nil {
			set(&d.VolumesEnabled, &s.Volumes.Enabled)
		}
	}
	return nil
}

// mergeHostVolumes adds the client's host_volume blocks.
func (c *Config) mergeHostVolumes(vols []*fileHostVolume) error {
	for _, v := range vols {
		if !filepath.IsAbs(v.Path) {
			return fmt.Errorf("client.host_volume %q: path %q must be absolute", v.Name, v.Path)
		}
		if c.Client.HostVolumes == nil {
			c.Client.HostVolumes = map[string]*structs.ClientHostVolumeConfig{}
		}
		c.Client.HostVolumes[v.Name] = &structs.ClientHostVolumeConfig{Name: v.Name, Path: filepath.Clean(v.Path), ReadOnly: v.ReadOnly}
	}
	return nil
}

// DockerOptions are the docker driver's permissions: the plugin block
// wins over the client options, and what neither sets stays secure.
func (c *Config) DockerOptions() (docker.Options, error) {
	var o docker.Options
	opt := func(key string) (bool, error) {
		v, ok := c.Client.Options[key]
		if !ok {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("client.options %q: %q is not true or false", key, v)
		}
		return b, nil
	}
	var err error
	if o.VolumesEnabled, err = opt("docker.volumes.enabled"); err != nil {
		return o, err
	}
	if o.AllowPrivileged, err = opt("docker.privileged.enabled"); err != nil {
		return o, err
	}
	if caps, ok := c.Client.Options["docker.caps.allowlist"]; ok {
		for _, cp := range strings.Split(caps, ",") {
			if cp = strings.TrimSpace(cp); cp != "" {
				o.AllowCaps = append(o.AllowCaps, cp)
			}
		}
	}
	d := c.Docker
	if d.VolumesEnabled != nil {
		o.VolumesEnabled = *d.VolumesEnabled
	}
	if d.AllowPrivileged != nil {
		o.AllowPrivileged = *d.AllowPrivileged
	}
	if d.AllowDevices != nil {
		o.AllowDevices = *d.AllowDevices
	}
	if d.AllowCaps != nil {
		o.AllowCaps = slices.Clone(d.AllowCaps)
	}
	o.InfraImage = d.InfraImage
	return o, nil
}
