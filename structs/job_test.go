package structs

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleJob() *Job {
	return &Job{ID: "web", TaskGroups: []*TaskGroup{{
		Name: "g", Count: 2,
		Networks: []*NetworkResource{{DynamicPorts: []Port{{Label: "http", To: 8080}}}},
		Tasks: []*Task{{Name: "t", Driver: "docker", Config: map[string]any{
			"image": "drover-demo:v1", "ports": []any{"http"}, "labels": map[string]any{"a": "b"},
		}}},
	}}}
}

func TestCanonicalizeFillsNomadDefaults(t *testing.T) {
	j := sampleJob()
	j.Canonicalize()
	if j.Name != "web" || j.Namespace != "default" || j.Region != "global" || j.Type != "service" || j.Priority != 50 {
		t.Fatalf("job defaults: %+v", j)
	}
	tg := j.TaskGroups[0]
	want := &RestartPolicy{Attempts: 2, Interval: 30 * time.Minute, Delay: 15 * time.Second, Mode: "fail"}
	if !reflect.DeepEqual(tg.RestartPolicy, want) {
		t.Fatalf("restart policy %+v", tg.RestartPolicy)
	}
	task := tg.Tasks[0]
	if task.Resources.CPU != 100 || task.Resources.MemoryMB != 300 || task.KillTimeout != 5*time.Second {
		t.Fatalf("task defaults %+v %v", task.Resources, task.KillTimeout)
	}
	if tg.Networks[0].Mode != "host" {
		t.Fatalf("network mode %q", tg.Networks[0].Mode)
	}
	// Idempotent.
	again := j.Copy()
	again.Canonicalize()
	if !reflect.DeepEqual(again, j) {
		t.Fatal("Canonicalize is not idempotent")
	}
}

func TestValidateNamesWhereTheProblemIs(t *testing.T) {
	j := sampleJob()
	j.TaskGroups[0].Count = -1
	j.TaskGroups[0].Tasks[0].Config["ports"] = []any{"grpc"}
	j.TaskGroups[0].Tasks = append(j.TaskGroups[0].Tasks, &Task{Name: "u", Driver: "docker", Config: map[string]any{}})
	j.Canonicalize()
	err := j.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`group "g": count must not be negative, got -1`,
		`group "g": task "t": config: port "grpc" is not declared in the group's network block`,
		`group "g": task "u": config: missing image`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestCopyIsDeep(t *testing.T) {
	j := sampleJob()
	j.Canonicalize()
	c := j.Copy()
	c.TaskGroups[0].Tasks[0].Config["labels"].(map[string]any)["a"] = "changed"
	c.TaskGroups[0].Networks[0].DynamicPorts[0].To = 1
	c.TaskGroups[0].RestartPolicy.Attempts = 9
	if j.TaskGroups[0].Tasks[0].Config["labels"].(map[string]any)["a"] != "b" ||
		j.TaskGroups[0].Networks[0].DynamicPorts[0].To != 8080 || j.TaskGroups[0].RestartPolicy.Attempts != 2 {
		t.Fatal("Copy shares state with the original")
	}
}

func TestJobJSONUsesNomadShapes(t *testing.T) {
	j := sampleJob()
	j.Canonicalize()
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"ID":"web"`, `"TaskGroups":[`, `"RestartPolicy":{"Attempts":2,"Interval":1800000000000`, `"DynamicPorts":[{"Label":"http","Value":0,"To":8080}]`, `"MemoryMB":300`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s:\n%s", field, b)
		}
	}
}

func TestAllocationIndexFromName(t *testing.T) {
	for name, want := range map[string]int{"web.g[0]": 0, "a.b[12]": 12, "x": -1, "x[]": -1, "x[a]": -1} {
		if got := (&Allocation{Name: name}).Index(); got != want {
			t.Errorf("Index(%q) = %d, want %d", name, got, want)
		}
	}
}
