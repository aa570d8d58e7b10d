package taskrunner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/structs"
)

// This file gives a task what it shares with its group (the group network,
// the allocation directories, host volumes) and handles image pulls that
// fail: they back off exponentially, like Kubernetes' ImagePullBackOff,
// instead of spending the restart policy.

// Image pull back-off: Kubernetes' figures.
const (
	pullBackoffBase = 10 * time.Second
	pullBackoffMax  = 5 * time.Minute
)

// reasonPullBackoff is the restart reason of a pull back-off.
const reasonPullBackoff = "ImagePullBackOff"

// podState is the runner's part of the group it belongs to.
type podState struct {
	// network is the group network the task joins; nil when the task has
	// a network of its own (host mode).
	network *driver.GroupNetwork
	mode    string
	// pullFailures counts failed pulls since the last start.
	pullFailures int
}

// SetGroupNetwork makes the task join the group's network. The allocation
// runner calls it before Run.
func (tr *TaskRunner) SetGroupNetwork(mode string, n *driver.GroupNetwork) {
	tr.pod.mode, tr.pod.network = mode, n
}

// preparePod completes the driver config with the group's network and
// mounts, lets the driver emit events, and has the driver check the
// config. Any error is a setup failure.
func (tr *TaskRunner) preparePod(cfg *driver.TaskConfig) error {
	cfg.Emit = func(typ, msg string) { tr.emit(newEvent(tr.clock.Now(), typ, msg)) }
	if tr.pod.network != nil {
		cfg.NetworkMode = "container:" + tr.pod.network.ContainerID
	}
	var tg *structs.TaskGroup
	if tr.alloc.Job != nil {
		tg = tr.alloc.Job.LookupTaskGroup(tr.alloc.TaskGroup)
	}
	if tg != nil && len(tg.Networks) > 0 && tg.Networks[0].DNS != nil && tr.pod.network == nil {
		dns := tg.Networks[0].DNS
		cfg.DNS = &driver.DNSConfig{Servers: dns.Servers, Searches: dns.Searches, Options: dns.Options}
	}
	if tr.dir != nil {
		td := tr.dir.TaskDir(tr.task.Name)
		cfg.TaskDir = td.Dir
		cfg.Mounts = append(cfg.Mounts,
			driver.Mount{Type: driver.MountBind, Source: tr.dir.SharedDir, Target: allocdir.SharedMountPath},
			driver.Mount{Type: driver.MountBind, Source: td.LocalDir, Target: allocdir.LocalMountPath},
			driver.Mount{Type: driver.MountBind, Source: td.SecretsDir, Target: allocdir.SecretsMountPath},
		)
	}
	mounts, err := hostVolumeMounts(tr.node, tg, tr.task)
	if err != nil {
		return err
	}
	cfg.Mounts = append(cfg.Mounts, mounts...)
	if v, ok := tr.driver.(driver.ConfigValidator); ok {
		if err := v.ValidateTaskConfig(cfg); err != nil {
			return err
		}
	}
	return nil
}

// hostVolumeMounts resolves the task's volume_mount blocks to the node's
// host volumes. A volume is read-only when the client, the group's
// request or the mount says so.
func hostVolumeMounts(node *structs.Node, tg *structs.TaskGroup, task *structs.Task) ([]driver.Mount, error) {
	var out []driver.Mount
	for _, vm := range task.VolumeMounts {
		var req *structs.VolumeRequest
		if tg != nil {
			req = tg.Volumes[vm.Volume]
		}
		if req == nil {
			return nil, fmt.Errorf("volume_mount: the group has no volume %q", vm.Volume)
		}
		var hv *structs.ClientHostVolumeConfig
		if node != nil {
			hv = node.HostVolumes[req.Source]
		}
		if hv == nil {
			names := []string{}
			if node != nil {
				names = slices.Sorted(maps.Keys(node.HostVolumes))
			}
			return nil, fmt.Errorf("volume %q: this node has no host volume %q (it has %q)", vm.Volume, req.Source, names)
		}
		out = append(out, driver.Mount{
			Type:     driver.MountBind,
			Source:   hv.Path,
			Target:   vm.Destination,
			ReadOnly: hv.ReadOnly || req.ReadOnly || vm.ReadOnly,
		})
	}
	return out, nil
}

// startFailure decides what follows a start that failed: a failed pull
// backs off, a failure no retry can mend fails the task, anything else
// follows the restart policy.
func (tr *TaskRunner) startFailure(ctx context.Context, err error) bool {
	switch {
	case errors.Is(err, driver.ErrImagePull):
		return tr.backOffPull(ctx)
	case errors.Is(err, driver.ErrNotRetryable):
		return tr.restartOrDie(ctx, restartDecision{failed: true, reason: "Error was unrecoverable"})
	}
	return tr.restartOrDie(ctx, tr.restarts.next(tr.clock.Now(), false))
}

// pullBackoff is the wait after the n-th failed pull in a row (n ≥ 1):
// 10s, 20s, 40s, ... up to 5m.
func pullBackoff(n int) time.Duration {
	d := pullBackoffBase
	for i := 1; i < n && d < pullBackoffMax; i++ {
		d *= 2
	}
	return min(d, pullBackoffMax)
}

// backOffPull waits before pulling again, and records the wait as a
// Restarting event whose reason is ImagePullBackOff. It returns false when
// the task was killed or the client stops meanwhile.
func (tr *TaskRunner) backOffPull(ctx context.Context) bool {
	tr.pod.pullFailures++
	delay := pullBackoff(tr.pod.pullFailures)
	now := tr.clock.Now()
	e := newEvent(now, structs.TaskRestarting,
		fmt.Sprintf("Back-off pulling image (%s), retrying in %v", reasonPullBackoff, delay))
	e.RestartReason = reasonPullBackoff
	e.StartDelay = int64(delay)
	e.Details["restart_reason"] = reasonPullBackoff
	e.Details["start_delay"] = fmt.Sprint(int64(delay))
	tr.update(func(s *structs.TaskState) {
		s.State = structs.TaskStatePending
		appendEvent(s, e)
	})
	timer := tr.clock.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-tr.killCh:
		tr.die(false, killedEvent(tr.clock.Now()))
		return false
	case <-ctx.Done():
		return false
	}
}

// pullSucceeded resets the back-off once a start got past the pull.
func (tr *TaskRunner) pullSucceeded() { tr.pod.pullFailures = 0 }
