package structs

import (
	"encoding/json"
	"testing"
	"time"
)

func diffTestJob() *Job {
	j := &Job{ID: "web", Type: JobTypeService, Datacenters: []string{"dc1"}, Meta: map[string]string{"team": "a"},
		TaskGroups: []*TaskGroup{{Name: "g", Count: 1, Tasks: []*Task{{
			Name: "app", Driver: "docker", Config: map[string]any{"image": "redis:3", "args": []any{"-v"}},
			Resources: &Resources{CPU: 100, MemoryMB: 64},
		}}}}}
	j.Canonicalize()
	return j
}

func TestDiffNone(t *testing.T) {
	a, b := diffTestJob(), diffTestJob()
	b.Version, b.JobModifyIndex, b.SubmitTime = 3, 99, 12345
	d := a.Diff(b, false)
	if d.Type != DiffTypeNone || len(d.Fields) != 0 || len(d.Objects) != 0 || len(d.TaskGroups) != 0 {
		out, _ := json.MarshalIndent(d, "", " ")
		t.Fatalf("diff of equal jobs:\n%s", out)
	}
}

func TestDiffEdited(t *testing.T) {
	a, b := diffTestJob(), diffTestJob()
	b.Priority = 70
	b.Meta = map[string]string{"owner": "b"}
	b.Constraints = []*Constraint{{LTarget: "${attr.kernel.name}", RTarget: "linux", Operand: "="}}
	b.TaskGroups[0].Count = 3
	b.TaskGroups[0].Tasks[0].Config["image"] = "redis:4"
	b.TaskGroups[0].RestartPolicy.Delay = time.Second
	d := a.Diff(b, false)
	if d.Type != DiffTypeEdited || d.ID != "web" {
		t.Fatalf("type %s id %s", d.Type, d.ID)
	}
	fields := map[string]*FieldDiff{}
	for _, f := range d.Fields {
		fields[f.Name] = f
	}
	if f := fields["Priority"]; f == nil || f.Type != DiffTypeEdited || f.Old != "50" || f.New != "70" {
		t.Errorf("Priority diff = %+v", f)
	}
	if f := fields["Meta[team]"]; f == nil || f.Type != DiffTypeDeleted {
		t.Errorf("Meta[team] diff = %+v", f)
	}
	if f := fields["Meta[owner]"]; f == nil || f.Type != DiffTypeAdded || f.New != "b" {
		t.Errorf("Meta[owner] diff = %+v", f)
	}
	if len(d.Objects) != 1 || d.Objects[0].Name != "Constraint" || d.Objects[0].Type != DiffTypeAdded {
		t.Errorf("objects = %+v", d.Objects)
	}
	if len(d.TaskGroups) != 1 {
		t.Fatalf("groups = %+v", d.TaskGroups)
	}
	g := d.TaskGroups[0]
	if g.Type != DiffTypeEdited || len(g.Fields) != 1 || g.Fields[0].Name != "Count" || g.Fields[0].New != "3" {
		t.Errorf("group diff fields = %+v", g.Fields)
	}
	if len(g.Objects) != 1 || g.Objects[0].Name != "RestartPolicy" || g.Objects[0].Fields[0].Name != "Delay" || g.Objects[0].Fields[0].New != "1s" {
		t.Errorf("group objects = %+v", g.Objects)
	}
	task := g.Tasks[0]
	if task.Type != DiffTypeEdited || len(task.Objects) != 1 || task.Objects[0].Name != "Config" {
		t.Fatalf("task diff = %+v", task)
	}
	cfg := task.Objects[0].Fields
	if len(cfg) != 1 || cfg[0].Name != "image" || cfg[0].Old != "redis:3" || cfg[0].New != "redis:4" {
		t.Errorf("config diff = %+v", cfg[0])
	}
}

func TestDiffAddedJob(t *testing.T) {
	d := (*Job)(nil).Diff(diffTestJob(), false)
	if d.Type != DiffTypeAdded || len(d.TaskGroups) != 1 || d.TaskGroups[0].Type != DiffTypeAdded {
		t.Fatalf("diff = %+v", d)
	}
	task := d.TaskGroups[0].Tasks[0]
	if task.Type != DiffTypeAdded || len(task.Fields) == 0 {
		t.Errorf("task = %+v", task)
	}
	for _, f := range task.Fields {
		if f.Type != DiffTypeAdded {
			t.Errorf("field %+v of an added task", f)
		}
	}
}

func TestDiffGroupRemoved(t *testing.T) {
	a, b := diffTestJob(), diffTestJob()
	extra := a.TaskGroups[0].Copy()
	extra.Name = "old"
	a.TaskGroups = append(a.TaskGroups, extra)
	d := a.Diff(b, false)
	if d.Type != DiffTypeEdited || len(d.TaskGroups) != 1 || d.TaskGroups[0].Name != "old" || d.TaskGroups[0].Type != DiffTypeDeleted {
		t.Fatalf("diff = %+v", d.TaskGroups)
	}
}
