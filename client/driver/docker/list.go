package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/moby/moby/api/types/container"
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

// LabelNodeID is the node whose client created the container.
const LabelNodeID = "com.drover.node_id"

// labelNode adds the node label to a container about to be created.
func (d *Driver) labelNode(cc *container.Config) {
	if d.nodeID == "" {
		return
	}
	if cc.Labels == nil {
		cc.Labels = map[string]string{}
	}
	cc.Labels[LabelNodeID] = d.nodeID
}

// NodeID is the node whose client created the container ("" for containers
// made before drover labelled them).
func (c ContainerInfo) NodeID() string { return c.Labels[LabelNodeID] }

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

// RemoveOrphans force-removes the containers this node's client created
// (LabelNodeID) for allocations keep does not know, and returns their IDs.
// Without a node ID it removes nothing: several clients may share the
// engine, and another's containers are not orphans.
func (d *Driver) RemoveOrphans(ctx context.Context, keep func(allocID string) bool) ([]string, error) {
	if d.nodeID == "" {
		return nil, nil
	}
	res, err := d.cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelNodeID+"="+d.nodeID),
	})
	if err != nil {
		return nil, fmt.Errorf("docker: list containers: %w", err)
	}
	var removed []string
	var errs []error
	for _, c := range res.Items {
		alloc := c.Labels[LabelAllocID]
		if alloc == "" || keep(alloc) {
			continue
		}
		if _, err := d.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("docker: remove orphan container %s: %w", c.ID, err))
			continue
		}
		removed = append(removed, c.ID)
	}
	return removed, errors.Join(errs...)
}
