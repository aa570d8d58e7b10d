package statetest

import (
	"fmt"
	"time"

	"github.com/drover-project/drover/structs"
)

// Job returns a canonical service job with one group "web" of count 2
// running one docker task, in the default namespace.
func Job(id string) *structs.Job {
	job := &structs.Job{
		ID:          id,
		Datacenters: []string{"dc1"},
		Meta:        map[string]string{"owner": "tests"},
		TaskGroups: []*structs.TaskGroup{{
			Name:  "web",
			Count: 2,
			Networks: []*structs.NetworkResource{{
				Mode:         "bridge",
				DynamicPorts: []structs.Port{{Label: "http", To: 8080}},
			}},
			Tasks: []*structs.Task{{
				Name:   "app",
				Driver: "docker",
				Config: map[string]any{
					"image": "example:1",
					"ports": []any{"http"},
					"args":  []any{"-listen", ":8080"},
				},
				Env:       map[string]string{"MODE": "test"},
				Resources: &structs.Resources{CPU: 100, MemoryMB: 64},
			}},
		}},
	}
	job.Canonicalize()
	return job
}

// Node returns a ready node with docker healthy.
func Node(id string) *structs.Node {
	return &structs.Node{
		ID:         id,
		SecretID:   "secret-" + id,
		Datacenter: "dc1",
		Name:       "node-" + id,
		Attributes: map[string]string{"kernel.name": "linux", "unique.network.ip-address": "127.0.0.1"},
		NodeResources: &structs.NodeResources{
			Cpu:      structs.NodeCpuResources{CpuShares: 4000, TotalCpuCores: 4},
			Memory:   structs.NodeMemoryResources{MemoryMB: 8192},
			Disk:     structs.NodeDiskResources{DiskMB: 100 * 1024},
			Networks: []*structs.NetworkResource{{Mode: "host", IP: "127.0.0.1"}},
		},
		Drivers: map[string]*structs.DriverInfo{
			"docker": {Detected: true, Healthy: true, Attributes: map[string]string{"driver.docker.version": "27"}},
		},
		NodePool:              "default",
		Status:                structs.NodeStatusReady,
		SchedulingEligibility: structs.NodeSchedulingEligible,
	}
}

// Eval returns a pending registration evaluation of job.
func Eval(id string, job *structs.Job) *structs.Evaluation {
	return &structs.Evaluation{
		ID:          id,
		Namespace:   job.Namespace,
		Priority:    job.Priority,
		Type:        job.Type,
		TriggeredBy: structs.EvalTriggerJobRegister,
		JobID:       job.ID,
		Status:      structs.EvalStatusPending,
	}
}

// Alloc returns a pending allocation of the job's first group, instance
// index, on the node, placed by the evaluation.
func Alloc(id string, job *structs.Job, index int, nodeID, evalID string) *structs.Allocation {
	tg := job.TaskGroups[0]
	return &structs.Allocation{
		ID:            id,
		Namespace:     job.Namespace,
		EvalID:        evalID,
		Name:          fmt.Sprintf("%s.%s[%d]", job.ID, tg.Name, index),
		NodeID:        nodeID,
		JobID:         job.ID,
		Job:           job,
		TaskGroup:     tg.Name,
		DesiredStatus: structs.AllocDesiredStatusRun,
		ClientStatus:  structs.AllocClientStatusPending,
		AllocatedResources: &structs.AllocatedResources{
			Tasks: map[string]*structs.AllocatedTaskResources{
				"app": {Cpu: structs.AllocatedCpuResources{CpuShares: 100}, Memory: structs.AllocatedMemoryResources{MemoryMB: 64}},
			},
			Shared: structs.AllocatedSharedResources{Ports: []structs.AllocatedPortMapping{{Label: "http", Value: 20000, To: 8080}}},
		},
		Metrics: &structs.AllocMetric{NodesEvaluated: 1, Scores: map[string]float64{nodeID: 0.5}},
	}
}

// TaskStates returns client task states for an allocation running its one
// task "app" since the given time.
func TaskStates(state string, since time.Time) map[string]*structs.TaskState {
	return map[string]*structs.TaskState{
		"app": {
			State:     state,
			StartedAt: since.UTC(),
			Events:    []*structs.TaskEvent{{Type: structs.TaskStarted, Time: since.UnixNano(), Details: map[string]string{"k": "v"}}},
		},
	}
}
