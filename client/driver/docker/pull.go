package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

// ensureImage makes the task's image available according to its pull
// policy:
//   - never: the image must be present; otherwise the task fails at once
//     (driver.ErrNotRetryable), as no retry can make it appear;
//   - if_not_present: pulled only when absent;
//   - always: pulled every start, and a failed pull fails the start even if
//     an older copy is present (the policy asks for the current image).
//
// A pull is announced with a "Downloading Image" event; a failed pull wraps
// driver.ErrImagePull so the task runner backs off before the next try.
func (d *Driver) ensureImage(ctx context.Context, cfg *driver.TaskConfig, o *taskOptions) error {
	ref := cfg.Image
	present, err := d.imagePresent(ctx, ref)
	if err != nil {
		return err
	}
	switch {
	case o.pullPolicy == structs.PullNever && !present:
		return driver.Mark(fmt.Errorf("image %s is not present on this node and pull_policy is %q",
			ref, structs.PullNever), driver.ErrNotRetryable)
	case o.pullPolicy == structs.PullNever, o.pullPolicy == structs.PullIfNotPresent && present:
		return nil
	}
	cfg.EmitEvent(structs.TaskDownloadingImage, "Downloading image "+ref)
	d.logger.Info("pulling image", "image", ref, "policy", o.pullPolicy)
	auth, err := encodeAuth(o.auth)
	if err != nil {
		return err
	}
	pullCtx, cancel := context.WithTimeout(ctx, o.pullTimeout)
	defer cancel()
	resp, err := d.cli.ImagePull(pullCtx, ref, client.ImagePullOptions{RegistryAuth: auth})
	if err == nil {
		// Progress and failures arrive in the response stream.
		err = resp.Wait(pullCtx)
		resp.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the task was killed or the client stops
		}
		return driver.Mark(fmt.Errorf("failed to pull image %s: %w", ref, err), driver.ErrImagePull)
	}
	return nil
}

func (d *Driver) imagePresent(ctx context.Context, ref string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("docker: inspect image %s: %w", ref, err)
	}
}

// encodeAuth encodes registry credentials as the engine wants them.
func encodeAuth(a *registryAuth) (string, error) {
	if a == nil {
		return "", nil
	}
	b, err := json.Marshal(registry.AuthConfig{
		Username: a.Username, Password: a.Password, ServerAddress: a.ServerAddress,
	})
	if err != nil {
		return "", fmt.Errorf("docker: encode registry auth: %w", err)
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// ValidateTaskConfig implements driver.ConfigValidator: the task's docker
// options are decoded and checked against what this client allows before
// anything is created, so a mistake is a Setup Failure.
func (d *Driver) ValidateTaskConfig(cfg *driver.TaskConfig) error {
	_, err := d.parseTaskOptions(cfg)
	return err
}
