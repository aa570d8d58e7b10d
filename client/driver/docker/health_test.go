package docker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// TestTaskHealthReadsTheImageHealthcheck runs the demo app with a
// HEALTHCHECK that passes, one that fails, and none.
func TestTaskHealthReadsTheImageHealthcheck(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	var ids []string
	t.Cleanup(func() { removeAll(d, ids) })
	run := func(hc *container.HealthConfig) *driver.TaskHandle {
		created, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       fmt.Sprintf("drover-health-%s", newAllocID()[:8]),
			Config:     &container.Config{Image: demoImage, Healthcheck: hc},
			HostConfig: &container.HostConfig{},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, created.ID)
		if _, err := d.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
		return &driver.TaskHandle{ContainerID: created.ID}
	}
	probe := func(args ...string) *container.HealthConfig {
		return &container.HealthConfig{Test: append([]string{"CMD", "/app"}, args...), Interval: 200 * time.Millisecond,
			Timeout: time.Second, Retries: 1, StartInterval: 100 * time.Millisecond}
	}
	healthy, failing, none := run(probe("exit", "0")), run(probe("exit", "1")), run(nil)

	deadline := time.Now().Add(30 * time.Second)
	for {
		okStatus, _, err1 := d.TaskHealth(ctx, healthy)
		badStatus, badOut, err2 := d.TaskHealth(ctx, failing)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if okStatus == structs.CheckPassing && strings.Contains(badOut, "unhealthy") {
			if badStatus != structs.CheckCritical {
				t.Errorf("failing HEALTHCHECK: %s", badStatus)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthy container %s, failing container %s (%s)", okStatus, badStatus, badOut)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, out, err := d.TaskHealth(ctx, none); err != nil || status != structs.CheckCritical || !strings.Contains(out, "no HEALTHCHECK") {
		t.Errorf("without HEALTHCHECK: %s %q %v", status, out, err)
	}
}
