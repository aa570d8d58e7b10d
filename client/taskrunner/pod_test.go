package taskrunner

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

func TestPullBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := pullBackoff(i + 1); got != w {
			t.Errorf("pull failure %d: back-off %v, want %v", i+1, got, w)
		}
	}
}

func TestHostVolumeMounts(t *testing.T) {
	node := &structs.Node{HostVolumes: map[string]*structs.ClientHostVolumeConfig{
		"certs": {Name: "certs", Path: "/etc/ssl", ReadOnly: true},
		"data":  {Name: "data", Path: "/srv/data"},
	}}
	tg := &structs.TaskGroup{Volumes: map[string]*structs.VolumeRequest{
		"c": {Name: "c", Type: "host", Source: "certs"},
		"d": {Name: "d", Type: "host", Source: "data"},
		"x": {Name: "x", Type: "host", Source: "missing"},
	}}
	task := &structs.Task{VolumeMounts: []*structs.VolumeMount{
		{Volume: "c", Destination: "/certs"},
		{Volume: "d", Destination: "/data"},
		{Volume: "d", Destination: "/data-ro", ReadOnly: true},
	}}
	got, err := hostVolumeMounts(node, tg, task)
	if err != nil {
		t.Fatal(err)
	}
	want := []driver.Mount{
		{Type: driver.MountBind, Source: "/etc/ssl", Target: "/certs", ReadOnly: true},
		{Type: driver.MountBind, Source: "/srv/data", Target: "/data"},
		{Type: driver.MountBind, Source: "/srv/data", Target: "/data-ro", ReadOnly: true},
	}
	if len(got) != len(want) {
		t.Fatalf("mounts = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	task.VolumeMounts = []*structs.VolumeMount{{Volume: "x", Destination: "/x"}}
	if _, err := hostVolumeMounts(node, tg, task); err == nil || !strings.Contains(err.Error(), `no host volume "missing"`) {
		t.Errorf("missing host volume: %v", err)
	}
}
