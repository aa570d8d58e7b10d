package scheduler

import (
	"strings"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestHostVolumeFeasibility(t *testing.T) {
	job := &structs.Job{ID: "j", Datacenters: []string{"*"}, NodePool: "default"}
	node := func(name string, vols ...*structs.ClientHostVolumeConfig) *structs.Node {
		n := &structs.Node{ID: name, Name: name, Datacenter: "dc1", Status: structs.NodeStatusReady,
			Drivers:     map[string]*structs.DriverInfo{"docker": {Detected: true, Healthy: true}},
			HostVolumes: map[string]*structs.ClientHostVolumeConfig{}}
		for _, v := range vols {
			n.HostVolumes[v.Name] = v
		}
		return n
	}
	nodes := []*structs.Node{
		node("none"),
		node("ro", &structs.ClientHostVolumeConfig{Name: "certs", Path: "/etc/ssl", ReadOnly: true}),
		node("rw", &structs.ClientHostVolumeConfig{Name: "certs", Path: "/etc/ssl"}),
	}
	for _, tc := range []struct {
		name     string
		readOnly bool
		want     string
	}{
		{"read-only request fits ro and rw volumes", true, "ro,rw"},
		{"read-write request needs a rw volume", false, "rw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := &structs.TaskGroup{Name: "g", Tasks: []*structs.Task{{Name: "t", Driver: "docker"}},
				Volumes: map[string]*structs.VolumeRequest{
					"c": {Name: "c", Type: structs.VolumeTypeHost, Source: "certs", ReadOnly: tc.readOnly},
				}}
			ok, metric := feasibleNodes(job, tg, nodes)
			var names []string
			for _, n := range ok {
				names = append(names, n.ID)
			}
			if got := strings.Join(names, ","); got != tc.want {
				t.Errorf("feasible = %s, want %s", got, tc.want)
			}
			for reason := range metric.ConstraintFiltered {
				if !strings.Contains(reason, "host volumes") {
					t.Errorf("filtered for %q", reason)
				}
			}
		})
	}
}
