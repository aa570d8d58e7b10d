package endpoints

import (
	"context"
	"errors"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestJobRegisterEnforcesTheModifyIndex(t *testing.T) {
	e, f := localServer(t)
	ctx := context.Background()
	register := func(enforce bool, index uint64) (*structs.JobRegisterResponse, error) {
		job := benchJob("web")
		job.Region = structs.DefaultRegion
		return e.JobRegister(ctx, &structs.JobRegisterRequest{Job: job, EnforceIndex: enforce, JobModifyIndex: index})
	}
	if _, err := register(true, 5); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("check-and-set of a job that does not exist at index 5: %v, want a bad request", err)
	}
	first, err := register(true, 0)
	if err != nil {
		t.Fatalf("check-and-set of a new job: %v", err)
	}
	if _, err := register(true, first.JobModifyIndex+1); !errors.Is(err, structs.ErrBadRequest) {
		t.Fatalf("check-and-set at a wrong index: %v, want a bad request", err)
	}
	again, err := register(true, first.JobModifyIndex)
	if err != nil {
		t.Fatalf("check-and-set at the current index: %v", err)
	}
	// The same specification again leaves the job's modify index, and the
	// answer says so.
	if again.JobModifyIndex != first.JobModifyIndex || again.Index <= first.Index {
		t.Fatalf("re-registration answered %+v after %+v; want the first JobModifyIndex at a later index", again, first)
	}
	// The answer reads it from the registration's evaluation.
	if ev, err := f.State().EvalByID(nil, again.EvalID); err != nil || ev == nil || ev.JobModifyIndex != first.JobModifyIndex {
		t.Fatalf("the evaluation of the re-registration: %+v, %v; want JobModifyIndex %d", ev, err, first.JobModifyIndex)
	}
	if _, err := register(false, 12345); err != nil {
		t.Fatalf("a registration without check-and-set: %v", err)
	}
}
