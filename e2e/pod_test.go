package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/internal/devagent"
	"github.com/drover-project/drover/internal/dockerimage"
	"github.com/drover-project/drover/structs"
)

// The tests of task groups that behave like pods: a shared network and
// shared directories, host volumes, what the client refuses, and image
// pull policies. The second container of a group is podprobe
// (testdata/podprobe), built here into a local image.

const podProbeImage = "drover-podprobe:e2e"

var (
	podProbeOnce sync.Once
	podProbeErr  error
)

// ensurePodProbe builds the podprobe image once per test binary.
func ensurePodProbe(t *testing.T) {
	t.Helper()
	podProbeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		dir, err := os.MkdirTemp("", "podprobe-")
		if err != nil {
			podProbeErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "podprobe")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./testdata/podprobe")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-buildvcs=false")
		if out, err := build.CombinedOutput(); err != nil {
			podProbeErr = fmt.Errorf("build podprobe: %v\n%s", err, out)
			return
		}
		cli, err := client.New(client.FromEnv)
		if err != nil {
			podProbeErr = err
			return
		}
		defer cli.Close()
		podProbeErr = dockerimage.Build(ctx, cli, podProbeImage, bin, dockerimage.Options{Target: "/podprobe"})
	})
	if podProbeErr != nil {
		t.Fatal(podProbeErr)
	}
}

const podJob = `
job "e2e-pod" {
  datacenters = ["*"]
  group "pod" {
    network {
      mode = "bridge"
      port "http" { to = 8080 }
    }
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
    task "writer" {
      driver = "docker"
      config {
        image = "drover-podprobe:e2e"
        args  = ["-write", "${NOMAD_ALLOC_DIR}/greeting", "-text", "from-writer"]
      }
      resources { memory = 32 }
    }
    task "probe" {
      driver = "docker"
      config {
        image = "drover-podprobe:e2e"
        args  = ["-wait-file", "/alloc/greeting", "-get", "http://127.0.0.1:8080/", "-out", "/alloc/probe.txt"]
      }
      resources { memory = 32 }
    }
  }
}
`

// TestTaskGroupSharesNetworkAndAllocDir runs a bridge group of three
// tasks: one task reaches another on localhost, a file one task writes in
// /alloc is read by another, the group's port answers on the host, and
// stopping the job leaves no container behind, infra container included.
func TestTaskGroupSharesNetworkAndAllocDir(t *testing.T) {
	ensurePodProbe(t)
	a := startAgent(t)
	docker := dockerClient(t)

	runJob(t, a, podJob)
	alloc := waitRunning(t, a.Addr, "e2e-pod", 1)[0]

	report := waitAllocFile(t, a, alloc.ID, "alloc/probe.txt")
	if !strings.Contains(report, "file=from-writer") {
		t.Errorf("the probe did not see the writer's file in /alloc:\n%s", report)
	}
	if !strings.Contains(report, `"alloc":"`+alloc.ID+`"`) {
		t.Errorf("the probe did not reach the app on localhost:\n%s", report)
	}
	if ans := askDemo(t, alloc); ans.Alloc != alloc.ID {
		t.Errorf("the group's host port answered %+v", ans)
	}

	var infra int
	for _, c := range droverContainers(t, docker, "e2e-pod") {
		if c.Labels["com.drover.infra"] == "true" {
			infra++
		}
	}
	if infra != 1 {
		t.Errorf("%d infra containers, want 1", infra)
	}

	if out, code := drover(t, a, "job", "stop", "-purge", "e2e-pod"); code != 0 {
		t.Fatalf("job stop exited %d:\n%s", code, out)
	}
	waitFor(t, 60*time.Second, "no container of the group left", func() (bool, error) {
		left := droverContainers(t, docker, "e2e-pod")
		return len(left) == 0, fmt.Errorf("%d containers left", len(left))
	})
}

const hostVolumeJob = `
job "e2e-hostvol" {
  datacenters = ["*"]
  group "g" {
    volume "shared" {
      type      = "host"
      source    = "shared"
      read_only = true
    }
    task "probe" {
      driver = "docker"
      config {
        image = "drover-podprobe:e2e"
        args  = ["-read", "/data/in.txt", "-try-write", "/data/out.txt", "-out", "/alloc/result.txt"]
      }
      volume_mount {
        volume      = "shared"
        destination = "/data"
      }
      resources { memory = 32 }
    }
  }
}
`

const refusedJob = `
job "e2e-refused" {
  datacenters = ["*"]
  group "privileged" {
    task "t" {
      driver = "docker"
      config {
        image      = "drover-podprobe:e2e"
        privileged = true
      }
    }
  }
  group "bind" {
    task "t" {
      driver = "docker"
      config {
        image   = "drover-podprobe:e2e"
        volumes = ["/etc:/host-etc:ro"]
      }
    }
  }
}
`

// TestClientGatesHostAccess: a host volume the client declares is mounted
// read-only; a host bind mount and a privileged container are refused by a
// client that does not allow them; a group asking for a host volume no
// node has is not placed; an unknown docker option is refused at submit.
func TestClientGatesHostAccess(t *testing.T) {
	ensurePodProbe(t)
	volDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(volDir, "in.txt"), []byte("hello-host"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "agent.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
client {
  host_volume "shared" {
    path      = %q
    read_only = true
  }
}
`, volDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "-config", config)

	var nodes []*structs.NodeListStub
	if err := getJSON(a.Addr+"/v1/nodes", &nodes); err != nil {
		t.Fatal(err)
	}
	if out, _ := drover(t, a, "node", "status", nodes[0].ID); !strings.Contains(out, "Host Volumes") || !strings.Contains(out, volDir) {
		t.Errorf("node status does not show the host volume:\n%s", out)
	}

	runJob(t, a, hostVolumeJob)
	alloc := waitRunning(t, a.Addr, "e2e-hostvol", 1)[0]
	result := waitAllocFile(t, a, alloc.ID, "alloc/result.txt")
	if !strings.Contains(result, "read=hello-host") || !strings.Contains(result, "try-write=read-only") {
		t.Errorf("host volume not mounted read-only:\n%s", result)
	}
	if _, err := os.Stat(filepath.Join(volDir, "out.txt")); err == nil {
		t.Error("the task wrote into the read-only host volume")
	}

	runJob(t, a, refusedJob)
	for group, want := range map[string]string{
		"privileged": "privileged containers are not allowed on this client",
		"bind":       "bind mounts of host paths (/etc) are not allowed on this client",
	} {
		alloc := waitAlloc(t, a, "e2e-refused", group, "a failed allocation", func(a *structs.Allocation) bool {
			return a.ClientStatus == structs.AllocClientStatusFailed
		})
		ev := findEvent(alloc, "t", structs.TaskSetupFailure)
		if ev == nil || !strings.Contains(ev.DisplayMessage, want) {
			t.Errorf("group %s: setup failure %+v, want one saying %q", group, ev, want)
		}
	}

	out, _ := drover(t, a, "job", "run", "-detach", writeJob(t, strings.ReplaceAll(
		strings.ReplaceAll(hostVolumeJob, `source    = "shared"`, `source    = "nowhere"`), "e2e-hostvol", "e2e-novol")))
	waitFor(t, 30*time.Second, "the placement failure to name the host volume", func() (bool, error) {
		out, _ = drover(t, a, "job", "status", "e2e-novol")
		return strings.Contains(out, "host volumes"), fmt.Errorf("job status:\n%s", out)
	})

	out, code := drover(t, a, "job", "run", writeJob(t, strings.ReplaceAll(hostVolumeJob, "args  =", "privliged = true\n        args  =")))
	if code == 0 || !strings.Contains(out, `no option "privliged"`) || !strings.Contains(out, "job.hcl:") {
		t.Errorf("an unknown docker option was not refused with its position (exit %d):\n%s", code, out)
	}
}

const pullJob = `
job "%s" {
  datacenters = ["*"]
  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    task "t" {
      driver = "docker"
      config {
        image = "%s"
        %s
      }
      resources { memory = 32 }
    }
  }
}
`

// TestImagePullPolicy: "never" with a missing image fails at once and says
// why; "if_not_present" with a present image starts without a pull; a pull
// that fails backs off exponentially and shows it in alloc status.
func TestImagePullPolicy(t *testing.T) {
	a := startAgent(t)

	runJob(t, a, fmt.Sprintf(pullJob, "e2e-never", "drover-missing:v1", `pull_policy = "never"`))
	never := waitAlloc(t, a, "e2e-never", "g", "a failed allocation", func(a *structs.Allocation) bool {
		return a.ClientStatus == structs.AllocClientStatusFailed
	})
	if ev := findEvent(never, "t", structs.TaskDriverFailure); ev == nil ||
		!strings.Contains(ev.DisplayMessage, `image drover-missing:v1 is not present on this node and pull_policy is "never"`) {
		t.Errorf("never: driver failure %+v", ev)
	}
	if ev := findEvent(never, "t", structs.TaskDownloadingImage); ev != nil {
		t.Errorf("never: the image was pulled: %+v", ev)
	}

	runJob(t, a, fmt.Sprintf(pullJob, "e2e-present", "drover-demo:v1", `pull_policy = "if_not_present"`))
	present := waitRunning(t, a.Addr, "e2e-present", 1)[0]
	if ev := findEvent(present, "t", structs.TaskDownloadingImage); ev != nil {
		t.Errorf("if_not_present: a present image was pulled: %+v", ev)
	}

	// Nothing listens on port 1, so the pull fails at once.
	runJob(t, a, fmt.Sprintf(pullJob, "e2e-pullfail", "127.0.0.1:1/drover-nothing:v1", ""))
	var backoffs []*structs.TaskEvent
	failing := waitAlloc(t, a, "e2e-pullfail", "g", "two pull back-offs", func(a *structs.Allocation) bool {
		backoffs = backoffs[:0]
		if ts := a.TaskStates["t"]; ts != nil {
			for _, e := range ts.Events {
				if e.Type == structs.TaskRestarting && e.RestartReason == "ImagePullBackOff" {
					backoffs = append(backoffs, e)
				}
			}
		}
		return len(backoffs) >= 2
	})
	if failing.ClientStatus != structs.AllocClientStatusPending {
		t.Errorf("backing off: client status %q, want pending", failing.ClientStatus)
	}
	if backoffs[0].StartDelay != int64(10*time.Second) || backoffs[1].StartDelay != int64(20*time.Second) {
		t.Errorf("back-off delays %v, %v; want 10s then 20s", time.Duration(backoffs[0].StartDelay), time.Duration(backoffs[1].StartDelay))
	}
	if ev := findEvent(failing, "t", structs.TaskDriverFailure); ev == nil || !strings.Contains(ev.DisplayMessage, "failed to pull image 127.0.0.1:1/drover-nothing:v1") {
		t.Errorf("pull failure event %+v", ev)
	}
	if ev := findEvent(failing, "t", structs.TaskDownloadingImage); ev == nil {
		t.Error("no Downloading Image event")
	}
	out, code := drover(t, a, "alloc", "status", failing.ID)
	if code != 0 || !strings.Contains(out, "ImagePullBackOff") {
		t.Errorf("alloc status does not show the back-off (exit %d):\n%s", code, out)
	}
}

func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { docker.Close() })
	return docker
}

func runJob(t *testing.T, a *devagent.Agent, src string) {
	t.Helper()
	if out, code := drover(t, a, "job", "run", "-detach", writeJob(t, src)); code != 0 {
		t.Fatalf("job run exited %d:\n%s", code, out)
	}
}

// waitAlloc waits for the job's allocation of group to satisfy cond.
func waitAlloc(t *testing.T, a *devagent.Agent, jobID, group, what string, cond func(*structs.Allocation) bool) *structs.Allocation {
	t.Helper()
	var found *structs.Allocation
	waitFor(t, 60*time.Second, what+" of "+jobID+"/"+group, func() (bool, error) {
		var stubs []*structs.AllocListStub
		if err := getJSON(a.Addr+"/v1/job/"+jobID+"/allocations", &stubs); err != nil {
			return false, err
		}
		for _, s := range stubs {
			if s.TaskGroup != group {
				continue
			}
			var alloc structs.Allocation
			if err := getJSON(a.Addr+"/v1/allocation/"+s.ID, &alloc); err != nil {
				return false, err
			}
			found = &alloc
			if cond(&alloc) {
				return true, nil
			}
		}
		if found == nil {
			return false, fmt.Errorf("no allocation")
		}
		return false, fmt.Errorf("status %q, task states %s", found.ClientStatus, describeStates(found))
	})
	return found
}

func describeStates(a *structs.Allocation) string {
	var b strings.Builder
	for name, ts := range a.TaskStates {
		fmt.Fprintf(&b, "\n  %s: %s", name, ts.State)
		for _, e := range ts.Events {
			fmt.Fprintf(&b, "\n    %s: %s", e.Type, e.DisplayMessage)
		}
	}
	return b.String()
}

// findEvent returns the task's last event of a type.
func findEvent(a *structs.Allocation, task, typ string) *structs.TaskEvent {
	ts := a.TaskStates[task]
	if ts == nil {
		return nil
	}
	for i := len(ts.Events) - 1; i >= 0; i-- {
		if ts.Events[i].Type == typ {
			return ts.Events[i]
		}
	}
	return nil
}

// waitAllocFile waits for a file in the allocation's directory on the
// agent's machine and returns its content.
func waitAllocFile(t *testing.T, a *devagent.Agent, allocID, rel string) string {
	t.Helper()
	path := filepath.Join(a.DataDir, "client", "alloc", allocID, rel)
	var content string
	waitFor(t, 60*time.Second, path, func() (bool, error) {
		b, err := os.ReadFile(path)
		content = string(b)
		return err == nil, err
	})
	return content
}

const stickyJob = `
job "e2e-sticky" {
  datacenters = ["*"]
  group "g" {
    ephemeral_disk {
      sticky = true
      size   = 100
    }
    task "t" {
      driver = "docker"
      config {
        image = "drover-podprobe:e2e"
        args  = [%s]
      }
      resources { memory = 32 }
    }
  }
}
`

// TestStickyEphemeralDisk: the allocation that replaces another on the
// same node after a job update finds the data its predecessor left in
// /alloc.
func TestStickyEphemeralDisk(t *testing.T) {
	ensurePodProbe(t)
	a := startAgent(t)

	runJob(t, a, fmt.Sprintf(stickyJob, `"-write", "/alloc/kept.txt", "-text", "from-v1", "-out", "/local/v1.txt"`))
	first := waitRunning(t, a.Addr, "e2e-sticky", 1)[0]
	waitAllocFile(t, a, first.ID, "t/local/v1.txt")

	runJob(t, a, fmt.Sprintf(stickyJob, `"-read", "/alloc/kept.txt", "-out", "/local/v2.txt"`))
	var second *structs.Allocation
	waitFor(t, 60*time.Second, "the replacement to run", func() (bool, error) {
		for _, alloc := range waitRunning(t, a.Addr, "e2e-sticky", 1) {
			if alloc.ID != first.ID {
				second = alloc
				return true, nil
			}
		}
		return false, fmt.Errorf("the first allocation still runs")
	})
	if second.PreviousAllocation != first.ID {
		t.Fatalf("replacement %s has previous allocation %q, want %s", second.ID, second.PreviousAllocation, first.ID)
	}
	if report := waitAllocFile(t, a, second.ID, "t/local/v2.txt"); !strings.Contains(report, "read=from-v1") {
		t.Errorf("the replacement did not find its predecessor's data:\n%s", report)
	}
	// The predecessor's task data moved along too.
	if _, err := os.Stat(filepath.Join(a.DataDir, "client", "alloc", second.ID, "t", "local", "v1.txt")); err != nil {
		t.Errorf("the task's local/ did not move: %v", err)
	}
}

// TestNoneNetworkSharesLoopback: in mode "none" the group's tasks share a
// namespace with only loopback: they reach each other on localhost, and
// nothing reaches them from outside.
func TestNoneNetworkSharesLoopback(t *testing.T) {
	ensurePodProbe(t)
	a := startAgent(t)
	job := strings.NewReplacer(`"e2e-pod"`, `"e2e-none"`, `mode = "bridge"`, `mode = "none"`,
		`port "http" { to = 8080 }`, "").Replace(podJob)
	runJob(t, a, job)
	alloc := waitRunning(t, a.Addr, "e2e-none", 1)[0]
	report := waitAllocFile(t, a, alloc.ID, "alloc/probe.txt")
	if !strings.Contains(report, `"alloc":"`+alloc.ID+`"`) {
		t.Errorf("the probe did not reach the app on localhost:\n%s", report)
	}
	docker := dockerClient(t)
	for _, c := range droverContainers(t, docker, "e2e-none") {
		if c.Labels["com.drover.infra"] != "true" {
			continue
		}
		res, err := docker.ContainerInspect(context.Background(), c.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if mode := res.Container.HostConfig.NetworkMode; mode != "none" {
			t.Errorf("infra container network mode %q, want none", mode)
		}
	}
}
