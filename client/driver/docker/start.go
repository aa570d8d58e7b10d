package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
	"github.com/moby/moby/client"
)

// StartTask implements driver.Driver: it creates the container (pulling
// the image as its pull policy says), opens the log files, starts the
// container and begins copying its output. A start whose image is present
// costs the engine three calls: create, start, and the log stream that
// follows the output (WaitTask adds the wait).
func (d *Driver) StartTask(ctx context.Context, cfg *driver.TaskConfig) (*driver.TaskHandle, error) {
	if cfg == nil {
		return nil, errors.New("docker: nil task config")
	}
	cc, hc, err := containerConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("docker: task %q: %w", cfg.TaskName, err)
	}
	topts, err := d.parseTaskOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("docker: task %q: %w", cfg.TaskName, err)
	}
	cfg = d.withDefaultDNS(cfg, topts) // dns.go
	topts.apply(cfg, cc, hc)
	d.labelNode(cc)

	name := ContainerName(cfg)
	created, err := d.createContainer(ctx, cfg, topts, client.ContainerCreateOptions{Name: name, Config: cc, HostConfig: hc})
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		d.removeAfterFailedStart(created.ID)
		return nil, fmt.Errorf("docker: start of container %s cancelled: %w", name, ctx.Err())
	}
	for _, w := range created.Warnings {
		d.logger.Warn("engine warning on create", "container", name, "warning", w)
	}

	// The log files are opened before the container starts, so their
	// modification time marks a point before the task's first line (see
	// resumePoint).
	out, err := openLogs(cfg)
	if err != nil {
		d.removeAfterFailedStart(created.ID)
		return nil, fmt.Errorf("docker: task %q: %w", cfg.TaskName, err)
	}
	if _, err := d.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		out.close()
		d.removeAfterFailedStart(created.ID)
		return nil, fmt.Errorf("docker: start container %s: %w", name, err)
	}
	startedAt := time.Now()
	d.copyLogs(created.ID, out, time.Time{}) // a new ID: never already copied

	return &driver.TaskHandle{
		Driver:      Name,
		ContainerID: created.ID,
		StartedAt:   startedAt,
		Config:      cfg,
	}, nil
}

// createContainer creates the task's container, making its image
// available as the pull policy says. With a policy that takes an image
// already present (if_not_present, never), the create itself tells whether
// the image is there: a start then costs the engine no separate image
// inspect, and only a create that fails for want of the image goes through
// ensureImage (which pulls, or fails the task under never).
//
// The create is not cancelled midway: an aborted request may still create
// the container after the engine has answered nothing, leaving one that
// nobody starts or removes. It is bounded instead, and the caller honours
// a cancellation that came meanwhile.
func (d *Driver) createContainer(ctx context.Context, cfg *driver.TaskConfig, topts *taskOptions,
	opts client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	ensured := false
	if topts.pullPolicy == structs.PullAlways {
		if err := d.ensureImage(ctx, cfg, topts); err != nil {
			return client.ContainerCreateResult{}, err
		}
		ensured = true
	}
	replaced := false
	for {
		createCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
		created, err := d.cli.ContainerCreate(createCtx, opts)
		switch {
		case cerrdefs.IsNotFound(err) && !ensured:
			// Most likely the image is missing; ensureImage finds out.
			// If the image is there after all, the next create reports
			// what else was not found.
			cancel()
			ensured = true
			if err := d.ensureImage(ctx, cfg, topts); err != nil {
				return client.ContainerCreateResult{}, err
			}
			continue
		case cerrdefs.IsConflict(err) && !replaced:
			// The name is taken by this task's previous container: a
			// restart, or a client that died between creating a container
			// and recording its handle. The new start supersedes it.
			replaced = true
			err = d.removeStale(createCtx, opts.Name, cfg.AllocID)
			cancel()
			if err != nil {
				return client.ContainerCreateResult{}, err
			}
			continue
		}
		cancel()
		if err != nil {
			return client.ContainerCreateResult{}, fmt.Errorf("docker: create container %s: %w", opts.Name, err)
		}
		return created, nil
	}
}

// removeStale removes the container holding name, after checking it
// belongs to the same allocation: a container of another owner that
// happens to have the name is not ours to remove.
func (d *Driver) removeStale(ctx context.Context, name, allocID string) error {
	res, err := d.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("docker: inspect existing container %s: %w", name, err)
	}
	if res.Container.Config == nil || res.Container.Config.Labels[LabelAllocID] != allocID {
		return fmt.Errorf("docker: container name %s is taken by a container drover did not create", name)
	}
	d.logger.Info("removing previous container of task", "container", name, "id", res.Container.ID)
	d.stopCopier(res.Container.ID)
	_, err = d.cli.ContainerRemove(ctx, res.Container.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: remove previous container %s: %w", name, err)
	}
	return nil
}

// createTimeout bounds a container create, which is never cancelled midway
// (and the removal of a stale container before it).
const createTimeout = 2 * time.Minute

// removeAfterFailedStart cleans up a container (by ID or name) that was
// created but could not be started, so a retry does not trip over it. It
// uses its own context: the caller's may be the reason the start failed.
func (d *Driver) removeAfterFailedStart(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		d.logger.Warn("could not remove container after failed start", "id", id, "error", err)
	}
}
