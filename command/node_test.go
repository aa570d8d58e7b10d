package command

import (
	"testing"
	"time"

	"github.com/drover-project/drover/structs"
)

func TestNodeStatus(t *testing.T) {
	e := newTestEnv(t)
	runCLI(t, "", "node", "status").want(t, 0, "No nodes registered")

	e.server.Nodes = []*structs.Node{
		{
			ID: nodeID, Name: "n1", Datacenter: "dc1", NodePool: "default", Status: "ready", SchedulingEligibility: "eligible",
			HTTPAddr: "10.0.0.5:4746",
			Drivers: map[string]*structs.DriverInfo{
				"docker": {Detected: true, Healthy: true, HealthDescription: "Healthy"},
				"exec":   {Detected: false, Healthy: false, HealthDescription: "not supported"},
			},
			NodeResources:     &structs.NodeResources{Cpu: structs.NodeCpuResources{CpuShares: 4100}, Memory: structs.NodeMemoryResources{MemoryMB: 8448}},
			ReservedResources: &structs.NodeReservedResources{Cpu: structs.NodeCpuResources{CpuShares: 100}, Memory: structs.NodeMemoryResources{MemoryMB: 256}},
		},
		{ID: "aaaa0000-0000-4000-8000-000000000000", Name: "n2", Datacenter: "dc2", NodePool: "gpu", NodeClass: "big",
			Status: "down", SchedulingEligibility: "ineligible", Drain: true},
	}
	e.server.Allocs = []*structs.Allocation{{
		ID: allocA, JobID: "web", TaskGroup: "web", NodeID: nodeID, DesiredStatus: "run", ClientStatus: "running",
		CreateTime: unix(testNow.Add(-time.Minute)), ModifyTime: unix(testNow.Add(-time.Minute)),
		AllocatedResources: &structs.AllocatedResources{Tasks: map[string]*structs.AllocatedTaskResources{
			"app": {Cpu: structs.AllocatedCpuResources{CpuShares: 500}, Memory: structs.AllocatedMemoryResources{MemoryMB: 512}},
		}},
	}}

	runCLI(t, "", "node", "status").want(t, 0,
		"ID        Node Pool  DC   Name  Class   Drain  Eligibility  Status\n"+
			"171a583b  default    dc1  n1    <none>  false  eligible     ready\n"+
			"aaaa0000  gpu        dc2  n2    big     true   ineligible   down\n")

	runCLI(t, "", "node", "status", "17").want(t, 0,
		"ID          = 171a583b\n",
		"Drivers     = docker\n",
		"Driver  Detected  Healthy  Message\ndocker  true      true     Healthy\nexec    false     false    not supported\n",
		"Allocated Resources\nCPU           Memory           Disk\n500/4000 MHz  512 MiB/8.0 GiB  0 MiB/0 MiB\n",
		"Allocations\nID        Job ID  Task Group  Version  Desired  Status   Created  Modified\n8ba85cef  web     web         0        run      running  1m ago   1m ago\n",
	)
	runCLI(t, "", "node", "status", "-verbose", "aa").want(t, 0, "ID          = aaaa0000-0000-4000-8000-000000000000", "No allocations placed")
	runCLI(t, "", "node", "status", "zz").want(t, 1, `No node(s) with prefix or id "zz" found`)
}
