package allocrunner

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/drover-project/drover/client/checks"
	"github.com/drover-project/drover/client/driver"
	"github.com/drover-project/drover/client/taskenv"
	"github.com/drover-project/drover/structs"
)

// The allocation's health. Its service checks run while its tasks run:
// their statuses go to the catalog (ServiceChecksChanged), a check with
// check_restart restarts its task after the failures it allows
// (liveness), and for an allocation placed by a deployment they decide,
// with the group's update block, whether it became healthy (readiness):
// every task running and every check passing for min_healthy_time, before
// healthy_deadline. That verdict is final for the deployment and goes to
// the servers with the allocation's next report.

// healthPoll is how often the health is looked at while undecided.
const healthPoll = 200 * time.Millisecond

// health is the allocation's health state.
type health struct {
	mu       sync.Mutex
	statuses []checks.Status
	// status is the verdict reported to the servers; nil until decided.
	status *structs.AllocDeploymentStatus
}

// deploymentStatus is the verdict, or nil.
func (ar *AllocRunner) deploymentStatus() *structs.AllocDeploymentStatus {
	ar.health.mu.Lock()
	defer ar.health.mu.Unlock()
	return ar.health.status.Copy()
}

func (ar *AllocRunner) checkStatuses() []checks.Status {
	ar.health.mu.Lock()
	defer ar.health.mu.Unlock()
	return append([]checks.Status(nil), ar.health.statuses...)
}

// unhealthyIfFailed makes a failed allocation of a deployment unhealthy
// at once, if its health was not decided yet: it reports its failure and
// its health together.
func (ar *AllocRunner) unhealthyIfFailed(clientStatus string) {
	if clientStatus != structs.AllocClientStatusFailed || ar.cfg.Alloc.DeploymentID == "" {
		return
	}
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	if tg == nil || tg.Update == nil || tg.Update.HealthCheck == structs.UpdateHealthCheckManual {
		return
	}
	ar.health.mu.Lock()
	defer ar.health.mu.Unlock()
	if ar.health.status == nil {
		ar.health.status = &structs.AllocDeploymentStatus{Healthy: new(bool), Timestamp: ar.cfg.Clock.Now(),
			Canary: ar.cfg.Alloc.DeploymentStatus.IsCanary()}
	}
}

// runHealth runs the checks and decides the health until ctx ends or the
// allocation stops.
func (ar *AllocRunner) runHealth(ctx context.Context) {
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	if tg == nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ar.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	byTask := ar.checkTargets(tg)
	if len(byTask) > 0 {
		go ar.runChecks(ctx, byTask)
	}
	if ar.cfg.Alloc.DeploymentID != "" && tg.Update != nil && tg.Update.HealthCheck != structs.UpdateHealthCheckManual {
		ar.decideHealth(ctx, tg, len(byTask) > 0)
	}
	<-ctx.Done() // the checks run until the allocation ends
}

// runChecks waits for the tasks to run, then runs one watcher per task
// (the group's services under ""), whose check_restart restarts that task.
func (ar *AllocRunner) runChecks(ctx context.Context, byTask map[string][]checks.Target) {
	if !ar.waitRunning(ctx) {
		return
	}
	var mu sync.Mutex
	latest := map[string][]checks.Status{}
	for task, targets := range byTask {
		w := checks.New(checks.Config{
			Targets: targets,
			Exec:    checkExec{ar},
			Clock:   ar.cfg.Clock,
			Logger:  ar.logger,
			Task:    task,
			OnChange: func(st []checks.Status) {
				mu.Lock()
				latest[task] = st
				var all []checks.Status
				for _, s := range latest {
					all = append(all, s...)
				}
				mu.Unlock()
				ar.health.mu.Lock()
				ar.health.statuses = all
				ar.health.mu.Unlock()
				ar.ServiceChecksChanged(all)
			},
			OnRestart: ar.restartUnhealthy,
		})
		mu.Lock()
		latest[task] = w.Statuses()
		var all []checks.Status
		for _, s := range latest {
			all = append(all, s...)
		}
		mu.Unlock()
		// The initial statuses count until the first change.
		ar.health.mu.Lock()
		if len(ar.health.statuses) < len(all) {
			ar.health.statuses = all
		}
		ar.health.mu.Unlock()
		go w.Run(ctx)
	}
}

// restartUnhealthy restarts the task of a failing check (every running
// task for a group-level check).
func (ar *AllocRunner) restartUnhealthy(task, reason string) {
	ar.logger.Info("restarting task: check unhealthy", "task", task, "reason", reason)
	for _, tr := range ar.tasks {
		if task != "" && tr.Name() != task {
			continue
		}
		if tr.State().State != structs.TaskStateRunning {
			continue
		}
		if err := tr.RestartUnhealthy(reason); err != nil {
			ar.logger.Warn("check_restart could not restart the task", "task", tr.Name(), "error", err)
		}
	}
}

// waitRunning waits until every main task runs; false when ctx ended.
func (ar *AllocRunner) waitRunning(ctx context.Context) bool {
	for {
		if ok, _ := ar.tasksRunning(); ok {
			return true
		}
		t := ar.cfg.Clock.NewTimer(healthPoll)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

// tasksRunning reports whether every task that should run does (a
// finished prestart or poststart task counts); failed reports a task that
// failed or restarted, which makes an allocation unhealthy.
func (ar *AllocRunner) tasksRunning() (running, failed bool) {
	running = true
	tg := ar.cfg.Alloc.Job.LookupTaskGroup(ar.cfg.Alloc.TaskGroup)
	for _, tr := range ar.tasks {
		s := tr.State()
		if s.Failed {
			failed = true
		}
		t := tg.LookupTask(tr.Name())
		hook := t != nil && t.Lifecycle != nil && !t.Lifecycle.Sidecar
		switch {
		case s.State == structs.TaskStateRunning:
		case hook && s.State == structs.TaskStateDead && !s.Failed:
		case hook && t.Lifecycle.Hook == structs.TaskLifecycleHookPoststop:
		default:
			running = false
		}
	}
	return running, failed
}

// decideHealth sets the allocation's deployment health once.
func (ar *AllocRunner) decideHealth(ctx context.Context, tg *structs.TaskGroup, hasChecks bool) {
	u := tg.Update
	start := ar.cfg.Clock.Now()
	var healthySince time.Time
	for {
		now := ar.cfg.Clock.Now()
		if ar.Alloc().ServerTerminal() {
			return
		}
		running, failed := ar.tasksRunning()
		statuses := ar.checkStatuses()
		// No status yet means the checks have not started: not healthy.
		checksOK := !hasChecks || u.HealthCheck == structs.UpdateHealthCheckTaskStates ||
			(len(statuses) > 0 && checks.Healthy(statuses, false))
		var verdict *bool
		switch {
		case failed:
			verdict = new(bool)
		case running && checksOK:
			if healthySince.IsZero() {
				healthySince = now
			}
			if now.Sub(healthySince) >= u.MinHealthyTime {
				yes := true
				verdict = &yes
			}
		default:
			healthySince = time.Time{}
		}
		if verdict == nil && u.HealthyDeadline > 0 && now.Sub(start) >= u.HealthyDeadline {
			verdict = new(bool)
		}
		if verdict != nil {
			ar.health.mu.Lock()
			ar.health.status = &structs.AllocDeploymentStatus{Healthy: verdict, Timestamp: now, Canary: ar.cfg.Alloc.DeploymentStatus.IsCanary()}
			ar.health.mu.Unlock()
			ar.logger.Info("allocation health decided", "healthy", *verdict)
			ar.notify() // the watch loop reports it
			return
		}
		t := ar.cfg.Clock.NewTimer(healthPoll)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// checkTargets lists the allocation's checks with the addresses they
// probe, by the task whose check_restart they drive.
func (ar *AllocRunner) checkTargets(tg *structs.TaskGroup) map[string][]checks.Target {
	ports := taskenv.AllocPorts(ar.cfg.Alloc, ar.cfg.HostIP)
	out := map[string][]checks.Target{}
	add := func(svc *structs.Service, task string) {
		for _, c := range svc.Checks {
			label := c.PortLabel
			if label == "" {
				label = svc.PortLabel
			}
			mode := c.AddressMode
			if mode == "" {
				mode = svc.AddressMode
			}
			owner := task
			if owner == "" && c.TaskName != "" {
				owner = c.TaskName
			}
			out[owner] = append(out[owner], checks.Target{
				ID:      svc.Name + "/" + c.Name,
				Service: svc.Name,
				Check:   c,
				Addr:    checkAddr(ports, ar.cfg.HostIP, label, mode),
			})
		}
	}
	for _, svc := range tg.Services {
		add(svc, "")
	}
	for _, t := range tg.Tasks {
		for _, svc := range t.Services {
			add(svc, t.Name)
		}
	}
	return out
}

// checkAddr is where a check reaches its port: the host's side of the
// mapping, or the container's port (address_mode driver or alloc) on the
// host's address, which the mapping publishes. A numeric label is a port.
func checkAddr(ports []driver.PortMapping, hostIP, label, mode string) string {
	host := hostIP
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	for _, p := range ports {
		if p.Label != label {
			continue
		}
		ip := p.HostIP
		if ip == "" || ip == "0.0.0.0" {
			ip = host
		}
		port := p.HostPort
		if (mode == "driver" || mode == "alloc") && port == 0 {
			port = p.ContainerPort
		}
		return net.JoinHostPort(ip, strconv.Itoa(port))
	}
	if _, err := strconv.Atoi(label); err == nil {
		return net.JoinHostPort(host, label)
	}
	return net.JoinHostPort(host, "0")
}

// checkExec runs script checks inside a task's container.
type checkExec struct{ ar *AllocRunner }

func (e checkExec) Exec(ctx context.Context, task string, cmd []string) ([]byte, int, error) {
	if task == "" && len(e.ar.tasks) > 0 {
		task = e.ar.tasks[0].Name()
	}
	var out bytes.Buffer
	code, err := e.ar.Exec(ctx, task, &driver.ExecOptions{Command: cmd, Stdout: &out, Stderr: &out})
	return out.Bytes(), code, err
}

// ImageHealth asks the task's driver for the health its image declares
// (checks of type docker).
func (e checkExec) ImageHealth(ctx context.Context, task string) (string, string, error) {
	if task == "" && len(e.ar.tasks) > 0 {
		task = e.ar.tasks[0].Name()
	}
	tr, err := e.ar.task(task)
	if err != nil {
		return "", "", err
	}
	return tr.ImageHealth(ctx)
}
