package scheduler_test

import (
	"testing"

	st "github.com/drover-project/drover/server/scheduler/schedulertest"
	"github.com/drover-project/drover/structs"
)

// diskJob is a small job whose group asks for sizeMB of ephemeral disk (0:
// unset, so Nomad's default of 300 MB).
func diskJob(id string, count, sizeMB int) *structs.Job {
	j := st.Job(id, count)
	j.TaskGroups[0].Tasks[0].Resources = &structs.Resources{CPU: 10, MemoryMB: 10}
	j.TaskGroups[0].EphemeralDisk = &structs.EphemeralDisk{SizeMB: sizeMB}
	j.Canonicalize()
	return j
}

func diskNode(id string, diskMB, reservedMB int64) *structs.Node {
	return nodeWith(id, func(n *structs.Node) {
		n.NodeResources.Disk.DiskMB = diskMB
		if reservedMB > 0 {
			n.ReservedResources = &structs.NodeReservedResources{Disk: structs.NodeDiskResources{DiskMB: reservedMB}}
		}
	})
}

func TestEphemeralDiskCountsInPlacement(t *testing.T) {
	cases := []struct {
		name       string
		diskMB     int64
		reservedMB int64
		sizeMB     int
		count      int
		wantPlaced int
	}{
		{"sized disks up to the node's disk", 1000, 0, 400, 3, 2},
		{"default 300 MB less the reserve", 1000, 100, 0, 4, 3},
		{"node that reports no disk is not counted", 0, 0, 400, 3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, job := setup(t, diskJob("web", c.count, c.sizeMB), diskNode("n1", c.diskMB, c.reservedMB))
			eval := process(t, h, job)
			live := h.State.LiveAllocs()
			if len(live) != c.wantPlaced {
				t.Fatalf("%d placed, want %d", len(live), c.wantPlaced)
			}
			wantDisk := int64(c.sizeMB)
			if wantDisk == 0 {
				wantDisk = structs.DefaultEphemeralDiskMB
			}
			for _, a := range live {
				if got := a.AllocatedResources.Shared.DiskMB; got != wantDisk {
					t.Errorf("alloc %s: shared disk %d MB, want %d", a.Name, got, wantDisk)
				}
			}
			m := eval.FailedTGAllocs["web"]
			if c.wantPlaced == c.count {
				if m != nil {
					t.Fatalf("unexpected failure %+v", m)
				}
				return
			}
			if m == nil || m.DimensionExhausted["disk"] != 1 || m.NodesExhausted != 1 {
				t.Fatalf("failure metric %+v, want disk exhausted on one node", m)
			}
		})
	}
}

// An allocation placed before its disk was recorded holds its group's.
func TestEphemeralDiskOfUnrecordedAllocCounts(t *testing.T) {
	n := diskNode("n1", 1000, 0)
	h, old := setup(t, diskJob("old", 1, 800), n)
	a := st.Alloc(old, 0, n)
	if a.AllocatedResources != nil {
		a.AllocatedResources.Shared.DiskMB = 0
	}
	h.State.UpsertAllocs(a)
	job := h.State.UpsertJob(diskJob("web", 1, 300))
	eval := process(t, h, job)
	if m := eval.FailedTGAllocs["web"]; m == nil || m.DimensionExhausted["disk"] != 1 {
		t.Fatalf("failure metric %+v, want disk exhausted", m)
	}
}

func TestPreemptionFreesDisk(t *testing.T) {
	n := diskNode("n1", 1000, 0)
	h, low := setup(t, func() *structs.Job { j := diskJob("low", 1, 800); j.Priority = 20; return j }(), n)
	victim := st.Alloc(low, 0, n)
	h.State.UpsertAllocs(victim)
	h.State.SetSchedulerConfig(&structs.SchedulerConfiguration{SchedulerAlgorithm: "binpack",
		PreemptionConfig: structs.PreemptionConfig{ServiceSchedulerEnabled: true}})
	high := diskJob("high", 1, 500)
	high.Priority = 80
	job := h.State.UpsertJob(high)
	process(t, h, job)
	if got := h.State.Alloc(victim.ID); got.DesiredStatus != structs.AllocDesiredStatusEvict {
		t.Fatalf("victim %s, want evicted for disk", got.DesiredStatus)
	}
	live := h.State.LiveAllocs()
	if len(live) != 1 || live[0].JobID != "high" {
		t.Fatalf("live allocations %v, want only high's", live)
	}
}

func TestSystemJobCountsDisk(t *testing.T) {
	job := diskJob("sys", 1, 2000)
	job.Type = structs.JobTypeSystem
	job.Canonicalize()
	h, job := setup(t, job, diskNode("small", 1000, 0), diskNode("big", 5000, 0))
	eval := process(t, h, job)
	live := h.State.LiveAllocs()
	if len(live) != 1 || live[0].NodeID != "big" {
		t.Fatalf("live allocations %v, want one on big", live)
	}
	if m := eval.FailedTGAllocs["web"]; m == nil || m.DimensionExhausted["disk"] != 1 {
		t.Fatalf("failure metric %+v, want disk exhausted on small", m)
	}
}
