package taskenv

import (
	"reflect"
	"testing"

	"github.com/drover-project/drover/structs"
)

func testInputs() (*structs.Node, *structs.Allocation, *structs.Task) {
	node := &structs.Node{
		ID:         "node-1",
		Name:       "worker-a",
		Datacenter: "dc2",
		NodeClass:  "gpu",
		NodePool:   "batch",
		Attributes: map[string]string{"kernel.name": "linux", "cpu.arch": "amd64"},
		Meta:       map[string]string{"rack": "r7"},
	}
	task := &structs.Task{
		Name:      "server",
		Driver:    "docker",
		Resources: &structs.Resources{CPU: 100, MemoryMB: 300},
		Meta:      map[string]string{"version": "v3", "owner": "task"},
		Env: map[string]string{
			"LISTEN":  "${NOMAD_ADDR_http}",
			"WHERE":   "${node.datacenter}/${attr.kernel.name}/${meta.rack}",
			"UNKNOWN": "${NOMAD_NOPE} and ${attr.nope}",
		},
	}
	job := &structs.Job{
		ID: "web", Name: "web-name", Namespace: "prod", Region: "eu", Type: structs.JobTypeService,
		Meta: map[string]string{"owner": "job", "team": "infra"},
		TaskGroups: []*structs.TaskGroup{{
			Name:  "frontend",
			Meta:  map[string]string{"owner": "group"},
			Tasks: []*structs.Task{task},
		}},
	}
	alloc := &structs.Allocation{
		ID:        "0123456789abcdef",
		Namespace: "prod",
		Name:      "web.frontend[2]",
		JobID:     "web",
		Job:       job,
		TaskGroup: "frontend",
		AllocatedResources: &structs.AllocatedResources{
			Tasks: map[string]*structs.AllocatedTaskResources{
				"server": {Cpu: structs.AllocatedCpuResources{CpuShares: 250}, Memory: structs.AllocatedMemoryResources{MemoryMB: 512, MemoryMaxMB: 1024}},
			},
			Shared: structs.AllocatedSharedResources{Ports: []structs.AllocatedPortMapping{
				{Label: "http", Value: 23456, To: 8080, HostIP: "10.0.0.5"},
				{Label: "admin-ui", Value: 23457},
			}},
		},
	}
	return node, alloc, task
}

func TestBuildEnv(t *testing.T) {
	node, alloc, task := testInputs()
	env := Build(node, alloc, task, "127.0.0.1").Map()
	want := map[string]string{
		"NOMAD_ALLOC_ID":           "0123456789abcdef",
		"NOMAD_SHORT_ALLOC_ID":     "01234567",
		"NOMAD_ALLOC_NAME":         "web.frontend[2]",
		"NOMAD_ALLOC_INDEX":        "2",
		"NOMAD_JOB_ID":             "web",
		"NOMAD_JOB_NAME":           "web-name",
		"NOMAD_GROUP_NAME":         "frontend",
		"NOMAD_TASK_NAME":          "server",
		"NOMAD_NAMESPACE":          "prod",
		"NOMAD_REGION":             "eu",
		"NOMAD_DC":                 "dc2",
		"NOMAD_CPU_LIMIT":          "250",
		"NOMAD_MEMORY_LIMIT":       "512",
		"NOMAD_MEMORY_MAX_LIMIT":   "1024",
		"NOMAD_ALLOC_DIR":          "/alloc",
		"NOMAD_TASK_DIR":           "/local",
		"NOMAD_SECRETS_DIR":        "/secrets",
		"NOMAD_PORT_http":          "8080",
		"NOMAD_HOST_PORT_http":     "23456",
		"NOMAD_IP_http":            "10.0.0.5",
		"NOMAD_ADDR_http":          "10.0.0.5:23456",
		"NOMAD_PORT_admin_ui":      "23457", // no `to`: the container sees the host port
		"NOMAD_HOST_PORT_admin_ui": "23457",
		"NOMAD_ADDR_admin_ui":      "127.0.0.1:23457",
		"NOMAD_META_owner":         "task", // task meta wins over group and job
		"NOMAD_META_OWNER":         "task",
		"NOMAD_META_team":          "infra",
		"NOMAD_META_version":       "v3",
		"NOMAD_META_VERSION":       "v3",
		"DROVER_ALLOC_ID":          "0123456789abcdef",
		"DROVER_ADDR_http":         "10.0.0.5:23456",
		"DROVER_META_OWNER":        "task",
		"LISTEN":                   "10.0.0.5:23456",
		"WHERE":                    "dc2/linux/r7",
		"UNKNOWN":                  "${NOMAD_NOPE} and ${attr.nope}",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for k, v := range env {
		if len(k) > 6 && k[:6] == "NOMAD_" && env["DROVER_"+k[6:]] != v {
			t.Errorf("%s has no DROVER_ twin", k)
		}
	}
}

func TestReplace(t *testing.T) {
	node, alloc, task := testInputs()
	env := Build(node, alloc, task, "127.0.0.1")
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"${NOMAD_ALLOC_ID}", "0123456789abcdef"},
		{"id=${ NOMAD_TASK_NAME }!", "id=server!"},
		{`${env["NOMAD_JOB_ID"]}`, "web"},
		{`${env["LISTEN"]}`, "10.0.0.5:23456"},
		{"${attr.cpu.arch}", "amd64"},
		{"${meta.rack}", "r7"},
		{"${node.unique.id}", "node-1"},
		{"${node.unique.name}", "worker-a"},
		{"${node.datacenter}", "dc2"},
		{"${node.class}", "gpu"},
		{"${node.pool}", "batch"},
		{"${NOMAD_PORT_http}-${NOMAD_HOST_PORT_http}", "8080-23456"},
		{"${unknown.thing}", "${unknown.thing}"},
		{`${env["NOPE"]}`, `${env["NOPE"]}`},
		{"unterminated ${NOMAD_ALLOC_ID", "unterminated ${NOMAD_ALLOC_ID"},
		{"$NOMAD_ALLOC_ID", "$NOMAD_ALLOC_ID"}, // only ${...} is interpolated
		{"a${NOMAD_DC}b${NOMAD_DC}c", "adc2bdc2c"},
	}
	for _, c := range cases {
		if got := env.Replace(c.in); got != c.want {
			t.Errorf("Replace(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestReplaceConfig(t *testing.T) {
	node, alloc, task := testInputs()
	env := Build(node, alloc, task, "127.0.0.1")
	in := map[string]any{
		"image":  "app:${NOMAD_META_version}",
		"args":   []any{"--bind", "${NOMAD_ADDR_http}", 8080.0},
		"labels": []map[string]any{{"dc": "${node.datacenter}"}},
		"nested": map[string]any{"x": []any{"${NOMAD_DC}"}},
		"flag":   true,
	}
	got := env.ReplaceConfig(in)
	want := map[string]any{
		"image":  "app:v3",
		"args":   []any{"--bind", "10.0.0.5:23456", 8080.0},
		"labels": []map[string]any{{"dc": "dc2"}},
		"nested": map[string]any{"x": []any{"dc2"}},
		"flag":   true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReplaceConfig = %#v\nwant %#v", got, want)
	}
	if in["image"] != "app:${NOMAD_META_version}" {
		t.Error("ReplaceConfig changed its input")
	}
}

func TestPortsFromNetworks(t *testing.T) {
	alloc := &structs.Allocation{AllocatedResources: &structs.AllocatedResources{
		Shared: structs.AllocatedSharedResources{Networks: []*structs.NetworkResource{{
			IP:            "192.168.1.2",
			ReservedPorts: []structs.Port{{Label: "db", Value: 5432}},
			DynamicPorts:  []structs.Port{{Label: "web", Value: 21000, To: 80}},
		}}},
	}}
	got := AllocPorts(alloc, "127.0.0.1")
	if len(got) != 2 || got[0].HostIP != "192.168.1.2" || got[0].ContainerPort != 5432 ||
		got[1].HostPort != 21000 || got[1].ContainerPort != 80 {
		t.Errorf("AllocPorts = %+v", got)
	}
}
