package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/driver/docker/pause"
	"github.com/drover-project/drover/internal/dockerimage"
	"github.com/drover-project/drover/structs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// A bridge (or none) group's tasks share one network namespace, held by an
// infra container that runs the pause program and nothing else. Its ports
// are the group's ports; the tasks join it with NetworkMode
// "container:<infra-id>", so they reach each other on localhost.

// Infra container labels and names.
const (
	// LabelInfra marks the infra container of an allocation.
	LabelInfra = "com.drover.infra"
	// infraImageRepo is the image the client builds from the pause program.
	infraImageRepo = "drover-infra"
	// infraHashLabel records the hash of the pause program in the image,
	// so a different program (another drover version) rebuilds it.
	infraHashLabel = "com.drover.infra.hash"
)

// infraImage builds the infra image once per process, on first need.
type infraImage struct {
	mu  sync.Mutex
	ref string // set once the image is known to be current
}

// InfraContainerName is the name of an allocation's infra container. Task
// containers are named "<task>-<alloc>", so the two never collide.
func InfraContainerName(allocID string) string { return "drover_infra_" + allocID }

// CreateGroupNetwork implements driver.GroupNetworkDriver. A running infra
// container of the allocation is reused (the client restarted); a stopped
// one is replaced.
func (d *Driver) CreateGroupNetwork(ctx context.Context, spec *driver.GroupNetworkSpec) (*driver.GroupNetwork, error) {
	spec = d.groupWithDefaultDNS(spec) // dns.go
	name := InfraContainerName(spec.AllocID)
	res, err := d.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	switch {
	case err == nil && res.Container.Config != nil && res.Container.Config.Labels[LabelAllocID] != spec.AllocID:
		return nil, fmt.Errorf("docker: container name %s is taken by a container drover did not create", name)
	case err == nil && res.Container.State != nil && res.Container.State.Running:
		return &driver.GroupNetwork{ContainerID: res.Container.ID}, nil
	case err == nil:
		if err := d.DestroyGroupNetwork(ctx, spec.AllocID); err != nil {
			return nil, err
		}
	case !cerrdefs.IsNotFound(err):
		return nil, fmt.Errorf("docker: inspect infra container %s: %w", name, err)
	}

	image, err := d.ensureInfraImage(ctx)
	if err != nil {
		return nil, err
	}
	cc := &container.Config{
		Image: image,
		Labels: map[string]string{
			LabelAllocID:   spec.AllocID,
			LabelJobID:     spec.JobID,
			LabelTaskGroup: spec.GroupName,
			LabelNamespace: spec.Namespace,
			LabelInfra:     "true",
		},
	}
	hc := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
	}
	switch spec.Mode {
	case driver.NetworkModeNone:
		hc.NetworkMode = container.NetworkMode(driver.NetworkModeNone)
	case driver.NetworkModeBridge:
		// Every port of the group, whatever task listens on it.
		all := &driver.TaskConfig{Ports: spec.Ports}
		for _, p := range spec.Ports {
			all.PortLabels = append(all.PortLabels, p.Label)
		}
		ports, bindings, err := publishedPorts(all)
		if err != nil {
			return nil, fmt.Errorf("docker: group network: %w", err)
		}
		cc.ExposedPorts, hc.PortBindings = ports, bindings
		if spec.DNS != nil {
			applyDNS(spec.DNS, hc)
		}
	default:
		return nil, fmt.Errorf("docker: no group network for mode %q", spec.Mode)
	}
	d.labelNode(cc)
	created, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cc, HostConfig: hc})
	if err != nil {
		return nil, fmt.Errorf("docker: create infra container %s: %w", name, err)
	}
	if _, err := d.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		d.removeAfterFailedStart(created.ID)
		return nil, fmt.Errorf("docker: start infra container %s: %w", name, err)
	}
	d.logger.Info("group network created", "alloc_id", spec.AllocID, "mode", spec.Mode, "container", created.ID)
	return &driver.GroupNetwork{ContainerID: created.ID}, nil
}

// DestroyGroupNetwork implements driver.GroupNetworkDriver.
func (d *Driver) DestroyGroupNetwork(ctx context.Context, allocID string) error {
	name := InfraContainerName(allocID)
	_, err := d.cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("docker: remove infra container %s: %w", name, err)
	}
	return nil
}

// ensureInfraImage returns the infra image, building it when it is absent
// or was built from another pause program. The operator's infra_image
// is used as is when set (pulled if absent).
func (d *Driver) ensureInfraImage(ctx context.Context) (string, error) {
	if ref := d.opts.InfraImage; ref != "" {
		o := &taskOptions{pullPolicy: structs.PullIfNotPresent, pullTimeout: defaultPullTimeout}
		if err := d.ensureImage(ctx, &driver.TaskConfig{Image: ref}, o); err != nil {
			return "", fmt.Errorf("docker: infra image: %w", err)
		}
		return ref, nil
	}
	d.infra.mu.Lock()
	defer d.infra.mu.Unlock()
	if d.infra.ref != "" {
		return d.infra.ref, nil
	}
	bin, err := pause.Binary(runtime.GOARCH)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(bin)
	hash := hex.EncodeToString(sum[:])
	ref := infraImageRepo + ":" + hash[:12]
	labels, ok, err := dockerimage.Labels(ctx, d.cli, ref)
	if err != nil {
		return "", err
	}
	if !ok || labels[infraHashLabel] != hash {
		if err := buildInfraImage(ctx, d.cli, ref, hash, bin); err != nil {
			return "", err
		}
		d.logger.Info("built infra image", "image", ref)
	}
	d.infra.ref = ref
	return ref, nil
}

func buildInfraImage(ctx context.Context, cli *client.Client, ref, hash string, bin []byte) error {
	dir, err := os.MkdirTemp("", "drover-infra-")
	if err != nil {
		return fmt.Errorf("docker: infra image: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pause")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		return fmt.Errorf("docker: infra image: %w", err)
	}
	err = dockerimage.Build(ctx, cli, ref, path, dockerimage.Options{
		Target:  "/pause",
		Labels:  map[string]string{infraHashLabel: hash},
		Message: "drover infra container: holds a task group's network namespace",
	})
	if err != nil {
		return fmt.Errorf("docker: build infra image: %w", err)
	}
	return nil
}

// isJoined reports whether a network mode joins another container's.
func isJoined(mode string) bool { return strings.HasPrefix(mode, "container:") }
