package agent

import (
	"slices"
	"strings"
	"testing"
)

func TestDockerPermissionsAndHostVolumes(t *testing.T) {
	c := DefaultConfig()
	o, err := c.DockerOptions()
	if err != nil {
		t.Fatal(err)
	}
	if o.VolumesEnabled || o.AllowPrivileged || o.AllowDevices || o.AllowCaps != nil {
		t.Fatalf("defaults are not secure: %+v", o)
	}

	src := `
client {
  host_volume "certs" {
    path      = "/etc/ssl/certs/"
    read_only = true
  }
  host_volume "data" {
    path = "/srv/data"
  }
  options = {
    "docker.volumes.enabled"    = true
    "docker.privileged.enabled" = "true"
    "docker.caps.allowlist"     = "CHOWN, NET_ADMIN"
  }
}
plugin "docker" {
  config {
    allow_privileged = false
    allow_devices    = true
    infra_image      = "pause:3.9"
  }
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if v := c.Client.HostVolumes["certs"]; v == nil || v.Path != "/etc/ssl/certs" || !v.ReadOnly || v.Name != "certs" {
		t.Errorf("certs = %+v", v)
	}
	if v := c.Client.HostVolumes["data"]; v == nil || v.Path != "/srv/data" || v.ReadOnly {
		t.Errorf("data = %+v", v)
	}
	o, err = c.DockerOptions()
	if err != nil {
		t.Fatal(err)
	}
	// The plugin block wins over the client options.
	if !o.VolumesEnabled || o.AllowPrivileged || !o.AllowDevices || o.InfraImage != "pause:3.9" ||
		!slices.Equal(o.AllowCaps, []string{"CHOWN", "NET_ADMIN"}) {
		t.Errorf("options = %+v", o)
	}
}

func TestDockerConfigErrors(t *testing.T) {
	for src, want := range map[string]string{
		`plugin "exec" {}`: `plugin "exec"`,
		`client {
  host_volume "x" { path = "relative" }
}`: "must be absolute",
		`plugin "docker" {
  config { allow_privilege = true }
}`: "agent.hcl:2:12",
	} {
		c := DefaultConfig()
		err := c.loadConfig("agent.hcl", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
	c := DefaultConfig()
	c.Client.Options = map[string]string{"docker.volumes.enabled": "yes please"}
	if _, err := c.DockerOptions(); err == nil {
		t.Error("a non-boolean option was accepted")
	}
}
