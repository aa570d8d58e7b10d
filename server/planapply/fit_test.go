package planapply

import (
	"testing"

	"github.com/drover-project/drover/server/state/statetest"
	"github.com/drover-project/drover/structs"
)

func TestAllocsFitCountsEphemeralDisk(t *testing.T) {
	job := statetest.Job("web")
	job.TaskGroups[0].EphemeralDisk = &structs.EphemeralDisk{SizeMB: 400}
	a := statetest.Alloc("a", job, 0, "n1", "e")
	a.AllocatedResources.Shared.DiskMB = 400
	b := statetest.Alloc("b", job, 1, "n1", "e")
	b.AllocatedResources.Shared.Ports[0].Value = 20001
	b.AllocatedResources.Shared.DiskMB = 0 // unrecorded: its group's 400 MB

	cases := []struct {
		name               string
		diskMB, reservedMB int64
		want               string
	}{
		{"room for both", 800, 0, ""},
		{"reserve leaves room for one", 800, 1, "disk exhausted"},
		{"too small", 700, 0, "disk exhausted"},
		{"no disk reported: not counted", 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			node := statetest.Node("n1")
			node.NodeResources.Disk.DiskMB = c.diskMB
			node.ReservedResources = &structs.NodeReservedResources{Disk: structs.NodeDiskResources{DiskMB: c.reservedMB}}
			ok, why := AllocsFit(node, []*structs.Allocation{a, b})
			if ok != (c.want == "") || why != c.want {
				t.Fatalf("fit %v %q, want %q", ok, why, c.want)
			}
		})
	}
}
