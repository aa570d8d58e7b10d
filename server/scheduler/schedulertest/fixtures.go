package schedulertest

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/drover-project/drover/structs"
)

// Node returns a ready node in dc1 and the default pool with 4000 MHz of
// cpu, 8192 MB of memory, 100 GiB of disk and a healthy docker driver.
func Node(id string) *structs.Node {
	return &structs.Node{
		ID:         id,
		Name:       id,
		Datacenter: "dc1",
		NodePool:   "default",
		Attributes: map[string]string{"unique.network.ip-address": "10.0.0.1"},
		NodeResources: &structs.NodeResources{
			Cpu:    structs.NodeCpuResources{CpuShares: 4000, TotalCpuCores: 4},
			Memory: structs.NodeMemoryResources{MemoryMB: 8192},
			Disk:   structs.NodeDiskResources{DiskMB: 100 * 1024},
		},
		Drivers: map[string]*structs.DriverInfo{
			"docker": {Detected: true, Healthy: true},
		},
		Status:                structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
	}
}

// Job returns a canonical service job with one group "web" of count
// copies of a docker task "app" asking for 500 MHz and 256 MB.
func Job(id string, count int) *structs.Job {
	j := &structs.Job{
		ID:          id,
		Type:        structs.JobTypeService,
		Datacenters: []string{"dc1"},
		TaskGroups: []*structs.TaskGroup{{
			Name:  "web",
			Count: count,
			Tasks: []*structs.Task{{
				Name:      "app",
				Driver:    "docker",
				Config:    map[string]any{"image": "busybox:1"},
				Resources: &structs.Resources{CPU: 500, MemoryMB: 256},
			}},
		}},
	}
	j.Canonicalize()
	return j
}

// BatchJob is Job with type batch.
func BatchJob(id string, count int) *structs.Job {
	j := Job(id, count)
	j.Type = structs.JobTypeBatch
	j.TaskGroups[0].RestartPolicy = nil
	j.Canonicalize()
	return j
}

// Alloc returns a running allocation of job's first group at index on node,
// holding the resources the group asks for.
func Alloc(job *structs.Job, index int, node *structs.Node) *structs.Allocation {
	tg := job.TaskGroups[0]
	tasks := map[string]*structs.AllocatedTaskResources{}
	for _, t := range tg.Tasks {
		tasks[t.Name] = &structs.AllocatedTaskResources{
			Cpu:    structs.AllocatedCpuResources{CpuShares: int64(t.Resources.CPU)},
			Memory: structs.AllocatedMemoryResources{MemoryMB: int64(t.Resources.MemoryMB)},
		}
	}
	diskMB := int64(structs.DefaultEphemeralDiskMB)
	if tg.EphemeralDisk != nil && tg.EphemeralDisk.SizeMB > 0 {
		diskMB = int64(tg.EphemeralDisk.SizeMB)
	}
	var ports []structs.AllocatedPortMapping
	for _, nw := range tg.Networks {
		for _, p := range nw.ReservedPorts {
			ports = append(ports, structs.AllocatedPortMapping{Label: p.Label, Value: p.Value, To: p.Value, HostIP: node.HostIP()})
		}
	}
	return &structs.Allocation{
		ID:                 uuid.NewString(),
		Namespace:          job.Namespace,
		EvalID:             "setup",
		Name:               fmt.Sprintf("%s.%s[%d]", job.ID, tg.Name, index),
		NodeID:             node.ID,
		NodeName:           node.Name,
		JobID:              job.ID,
		Job:                job,
		TaskGroup:          tg.Name,
		AllocatedResources: &structs.AllocatedResources{Tasks: tasks, Shared: structs.AllocatedSharedResources{Ports: ports, DiskMB: diskMB}},
		DesiredStatus:      structs.AllocDesiredStatusRun,
		ClientStatus:       structs.AllocClientStatusRunning,
	}
}
