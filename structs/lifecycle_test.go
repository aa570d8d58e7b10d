package structs

import (
	"strings"
	"testing"
	"time"
)

func TestLifecycleValidation(t *testing.T) {
	task := func(name string, l *TaskLifecycleConfig) *Task {
		return &Task{Name: name, Driver: "docker", Config: map[string]any{"image": "a"}, Lifecycle: l}
	}
	cases := []struct {
		name  string
		tasks []*Task
		want  string // "" for valid
	}{
		{"main only", []*Task{task("web", nil)}, ""},
		{"prestart and main", []*Task{task("init", &TaskLifecycleConfig{Hook: "prestart"}), task("web", nil)}, ""},
		{"unknown hook", []*Task{task("x", &TaskLifecycleConfig{Hook: "before"}), task("web", nil)}, `hook must be`},
		{"poststop sidecar", []*Task{task("x", &TaskLifecycleConfig{Hook: "poststop", Sidecar: true}), task("web", nil)}, "cannot be a sidecar"},
		{"no main task", []*Task{task("x", &TaskLifecycleConfig{Hook: "prestart"})}, "at least one main task"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			job := &Job{ID: "j", Name: "j", Datacenters: []string{"dc1"}, TaskGroups: []*TaskGroup{{Name: "g", Count: 1, Tasks: c.tasks}}}
			job.Canonicalize()
			err := job.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestTaskRestartPolicyMergedOverGroup(t *testing.T) {
	job := &Job{ID: "j", Name: "j", Datacenters: []string{"dc1"}, TaskGroups: []*TaskGroup{{
		Name: "g", Count: 1,
		RestartPolicy: &RestartPolicy{Attempts: 4, Interval: time.Hour, Delay: time.Minute, Mode: RestartModeDelay},
		Tasks: []*Task{
			{Name: "a", Driver: "docker", Config: map[string]any{"image": "a"}, RestartPolicy: &RestartPolicy{Attempts: 1}},
			{Name: "b", Driver: "docker", Config: map[string]any{"image": "a"}},
		},
	}}}
	job.Canonicalize()
	a, b := job.TaskGroups[0].Tasks[0].RestartPolicy, job.TaskGroups[0].Tasks[1].RestartPolicy
	if *a != (RestartPolicy{Attempts: 1, Interval: time.Hour, Delay: time.Minute, Mode: RestartModeDelay}) {
		t.Errorf("task a = %+v", a)
	}
	if *b != *job.TaskGroups[0].RestartPolicy {
		t.Errorf("task b = %+v", b)
	}
	if b == job.TaskGroups[0].RestartPolicy {
		t.Error("task b shares the group's policy")
	}
}
