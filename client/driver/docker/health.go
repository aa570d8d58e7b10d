package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// TaskHealth reports the health the image's own HEALTHCHECK gives the
// task's container, for checks of type "docker": healthy passes,
// starting and unhealthy fail, with the last probe's output.
func (d *Driver) TaskHealth(ctx context.Context, h *driver.TaskHandle) (status, output string, err error) {
	if h == nil || h.ContainerID == "" {
		return "", "", errors.New("docker: health: handle has no container ID")
	}
	ins, err := d.cli.ContainerInspect(ctx, h.ContainerID, client.ContainerInspectOptions{})
	if err != nil {
		return "", "", fmt.Errorf("docker: inspect container %s: %w", h.ContainerID, err)
	}
	st := ins.Container.State
	if st == nil || st.Health == nil {
		return structs.CheckCritical, "the image declares no HEALTHCHECK", nil
	}
	if n := len(st.Health.Log); n > 0 {
		output = st.Health.Log[n-1].Output
	}
	if st.Health.Status == container.Healthy {
		return structs.CheckPassing, output, nil
	}
	return structs.CheckCritical, fmt.Sprintf("container health %s: %s", st.Health.Status, output), nil
}
