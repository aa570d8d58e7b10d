package structs

import (
	"strings"
	"testing"
)

func TestGroupStorageValidateAndCopy(t *testing.T) {
	job := &Job{ID: "j", Type: JobTypeService}
	tg := &TaskGroup{
		Name: "g", Count: 1,
		Networks: []*NetworkResource{{Mode: "bridge", DNS: &DNSConfig{Servers: []string{"10.0.0.53"}}}},
		Volumes: map[string]*VolumeRequest{
			"ok":  {Type: VolumeTypeHost, Source: "certs"},
			"csi": {Type: "csi", Source: "x"},
		},
		Tasks: []*Task{{Name: "t", Driver: "docker",
			Config: map[string]any{"image": "x:v1", "privliged": true, "pull_policy": "sometimes",
				"mount": []any{map[string]any{"target": "/x", "src": "y"}}},
			VolumeMounts: []*VolumeMount{{Volume: "ok", Destination: "/certs"}, {Volume: "nope", Destination: "rel"}},
		}},
	}
	tg.Canonicalize(job)
	if tg.EphemeralDisk == nil || tg.EphemeralDisk.SizeMB != DefaultEphemeralDiskMB || tg.Volumes["ok"].Name != "ok" {
		t.Fatalf("defaults: disk %+v, volume %+v", tg.EphemeralDisk, tg.Volumes["ok"])
	}
	err := tg.Validate(job)
	for _, want := range []string{
		`volume "csi": type must be "host"`,
		`volume_mount[1]: volume "nope" is not declared`,
		`destination "rel" must be an absolute path`,
		`unknown docker option "privliged"`,
		`mount: unknown option "src"`,
		`pull_policy must be`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validation error %v lacks %q", err, want)
		}
	}

	c := tg.Copy()
	c.Volumes["ok"].Source = "changed"
	c.Tasks[0].VolumeMounts[0].Destination = "/changed"
	c.Networks[0].DNS.Servers[0] = "changed"
	c.EphemeralDisk.Sticky = true
	if tg.Volumes["ok"].Source != "certs" || tg.Tasks[0].VolumeMounts[0].Destination != "/certs" ||
		tg.Networks[0].DNS.Servers[0] != "10.0.0.53" || tg.EphemeralDisk.Sticky {
		t.Error("Copy shares memory with the original")
	}

	n := &Node{HostVolumes: map[string]*ClientHostVolumeConfig{"a": {Name: "a", Path: "/a"}}}
	nc := n.Copy()
	nc.HostVolumes["a"].Path = "/b"
	if n.HostVolumes["a"].Path != "/a" {
		t.Error("Node.Copy shares host volumes")
	}
}
