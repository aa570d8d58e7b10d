package scheduler

import (
	"testing"

	"github.com/drover-project/drover/structs"
)

// An allocation marked to migrate (alloc stop) is replaced: the new one is
// placed and the old one stopped, like a destructive update.
func TestReconcileReplacesAMigratingAlloc(t *testing.T) {
	job := testJob(structs.JobTypeService, 2)
	allocs := buildAllocs(job, nil, []allocSpec{run(0, "n1"), run(1, "n1")})
	yes := true
	allocs[1].DesiredTransition.Migrate = &yes

	r := reconcile(job, allocs, nil)
	if len(r.stops) != 0 || len(r.places) != 1 {
		t.Fatalf("stops %d, places %d", len(r.stops), len(r.places))
	}
	if got, want := describePlace(r.places[0]), "j.web[1] replacing a1 then stop: "+descMigrating; got != want {
		t.Errorf("place = %q, want %q", got, want)
	}
}
