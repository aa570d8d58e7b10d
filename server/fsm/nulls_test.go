package fsm

import (
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestRejectNullElementsNamesThePath(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  any
		want string // "" for no error
	}{
		{"list", &AllocClientUpdateRequest{Allocs: []*structs.Allocation{{ID: "a"}, nil}}, ".Allocs[1] is null"},
		{"map", &AllocUpdateDesiredTransitionRequest{Allocs: map[string]*structs.DesiredTransition{"a1": nil}}, ".Allocs[a1] is null"},
		{"nested", &JobRegisterRequest{Job: &structs.Job{TaskGroups: []*structs.TaskGroup{{Name: "g", Tasks: []*structs.Task{nil}}}}},
			".Job.TaskGroups[0].Tasks[0] is null"},
		{"null in free-form config is fine", &JobRegisterRequest{Job: &structs.Job{TaskGroups: []*structs.TaskGroup{{Name: "g",
			Tasks: []*structs.Task{{Name: "t", Config: map[string]any{"x": nil, "l": []any{nil}}}}}}}}, ""},
		{"nil top-level pointers are fine", &JobRegisterRequest{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rejectNullElements(tc.req)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func BenchmarkRejectNullElementsJob(b *testing.B) {
	job := &structs.Job{ID: "j", TaskGroups: []*structs.TaskGroup{{Name: "g", Count: 3, Tasks: []*structs.Task{{
		Name: "t", Driver: "docker", Config: map[string]any{"image": "x", "args": []any{"a", "b"}},
		Env: map[string]string{"A": "1"}}}}}}
	req := &JobRegisterRequest{Job: job, Eval: &structs.Evaluation{ID: "e"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := rejectNullElements(req); err != nil {
			b.Fatal(err)
		}
	}
}
