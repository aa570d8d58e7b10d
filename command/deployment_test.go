package command

import (
	"strings"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestFormatDeployment(t *testing.T) {
	d := &structs.Deployment{ID: "0b23b149-aaaa", JobID: "web", JobVersion: 2, Status: structs.DeploymentStatusRunning,
		StatusDescription: structs.DeploymentDescRunningNeedsPromotion,
		TaskGroups:        map[string]*structs.DeploymentState{"web": {DesiredTotal: 4, DesiredCanaries: 1, PlacedAllocs: 1, HealthyAllocs: 1}}}
	got := formatDeployment(d, false)
	for _, want := range []string{
		"ID          = 0b23b149",
		"Job Version = 2",
		"Description = Deployment is running but requires manual promotion",
		"Task Group  Promoted  Desired  Canaries  Placed  Healthy  Unhealthy  Progress Deadline",
		"web         false     4        1         1       1        0          N/A",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	plain := formatDeploymentGroups(&structs.Deployment{TaskGroups: map[string]*structs.DeploymentState{"web": {DesiredTotal: 2}}})
	if !strings.HasPrefix(plain, "Task Group  Desired  Placed  Healthy  Unhealthy  Progress Deadline") {
		t.Errorf("without canaries:\n%s", plain)
	}
}
