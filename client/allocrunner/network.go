package allocrunner

import (
	"context"
	"fmt"
	"time"

	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/taskenv"
	"github.com/drover-project/drover/structs"
)

// A group whose network block says mode = "bridge" (or "none") runs its
// tasks in one network namespace, which the driver holds for the whole
// allocation (docker: an infra container). The namespace is made before
// any task starts and removed once every task is dead. In host mode (the
// default) each task has a network of its own and publishes the ports its
// config lists, so no group network is made.

// groupNetworkTimeout bounds removing the group network after the tasks.
const groupNetworkTimeout = 30 * time.Second

// groupNetworkMode is the group's shared network mode, or "" for none.
func (ar *AllocRunner) groupNetworkMode() string {
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	if tg == nil || len(tg.Networks) == 0 {
		return ""
	}
	switch mode := tg.Networks[0].Mode; mode {
	case driver.NetworkModeBridge, driver.NetworkModeNone:
		return mode
	}
	return ""
}

// networkDriver is the driver that holds the group network: the drivers of
// the group's tasks must agree on one that can.
func (ar *AllocRunner) networkDriver() (driver.GroupNetworkDriver, error) {
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	var nd driver.GroupNetworkDriver
	for _, t := range tg.Tasks {
		d, ok := ar.cfg.Drivers[t.Driver].(driver.GroupNetworkDriver)
		if !ok {
			return nil, fmt.Errorf("task %q: driver %q cannot join a group network", t.Name, t.Driver)
		}
		if nd == nil {
			nd = d
		}
	}
	return nd, nil
}

// setupGroupNetwork creates the group network, when the group has one and
// a task may still run, and tells each task runner to join it.
func (ar *AllocRunner) setupGroupNetwork(ctx context.Context) error {
	mode := ar.groupNetworkMode()
	if mode == "" || ar.allTasksDead() {
		return nil
	}
	nd, err := ar.networkDriver()
	if err != nil {
		return err
	}
	spec := &driver.GroupNetworkSpec{
		AllocID:   ar.cfg.Alloc.ID,
		Namespace: ar.cfg.Alloc.Namespace,
		JobID:     ar.cfg.Alloc.JobID,
		GroupName: ar.cfg.Alloc.TaskGroup,
		Mode:      mode,
		Ports:     taskenv.AllocPorts(ar.cfg.Alloc, ar.cfg.HostIP),
	}
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	if dns := tg.Networks[0].DNS; dns != nil {
		spec.DNS = &driver.DNSConfig{Servers: dns.Servers, Searches: dns.Searches, Options: dns.Options}
	}
	n, err := nd.CreateGroupNetwork(ctx, spec)
	if err != nil {
		return fmt.Errorf("creating the group network: %w", err)
	}
	for _, tr := range ar.tasks {
		tr.SetGroupNetwork(mode, n)
	}
	return nil
}

// teardownGroupNetwork removes the group network once the tasks are dead.
func (ar *AllocRunner) teardownGroupNetwork() {
	if ar.groupNetworkMode() == "" {
		return
	}
	nd, err := ar.networkDriver()
	if err != nil {
		return // nothing was created
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupNetworkTimeout)
	defer cancel()
	if err := nd.DestroyGroupNetwork(ctx, ar.cfg.Alloc.ID); err != nil {
		ar.logger.Warn("failed to remove the group network", "error", err)
	}
}

func (ar *AllocRunner) allTasksDead() bool {
	for _, tr := range ar.tasks {
		if tr.State().State != structs.TaskStateDead {
			return false
		}
	}
	return true
}
