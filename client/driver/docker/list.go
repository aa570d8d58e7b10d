package docker

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// ContainerInfo describes one container drover created.
type ContainerInfo struct {
	ID    string
	Name  string // without Docker's leading "/"
	Image string
	// State is the engine's state: created, running, paused, restarting,
	// removing, exited or dead.
	State  string
	Labels map[string]string
}

// AllocID is the allocation the container belongs to.
func (c ContainerInfo) AllocID() string { return c.Labels[LabelAllocID] }

// TaskName is the task the container runs.
func (c ContainerInfo) TaskName() string { return c.Labels[LabelTaskName] }

// ListDroverContainers lists every container, running or not, that
// carries drover's alloc label, so the client can remove the ones that
// belong to no allocation it knows (orphans of a crash or a lost state).
func (d *Driver) ListDroverContainers(ctx context.Context) ([]ContainerInfo, error) {
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelAllocID),
	})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	out := make([]ContainerInfo, 0, len(res.Items))
	for _, c := range res.Items {
		info := ContainerInfo{
			ID:     c.ID,
			Image:  c.Image,
			State:  string(c.State),
			Labels: c.Labels,
		}
		if len(c.Names) > 0 {
			info.Name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, info)
	}
	return out, nil
}
