package docker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/client"
)

// TestGroupNetwork holds a bridge group's namespace in an infra container,
// runs a task in it, reaches the task through the port published on the
// infra container, and checks that creating again reuses the container and
// destroying removes it.
func TestGroupNetwork(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	alloc := newAllocID()
	port := freePort(t)
	spec := &driver.GroupNetworkSpec{
		AllocID: alloc, JobID: "job", GroupName: "web", Mode: driver.NetworkModeBridge,
		Ports: []driver.PortMapping{{Label: "http", HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080}},
		DNS:   &driver.DNSConfig{Servers: []string{"10.0.0.53"}, Searches: []string{"svc.local"}},
	}
	t.Cleanup(func() { _ = d.DestroyGroupNetwork(context.Background(), alloc) })
	n, err := d.CreateGroupNetwork(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.CreateGroupNetwork(ctx, spec)
	if err != nil || again.ContainerID != n.ContainerID {
		t.Fatalf("second create: %+v, %v; want the same container %s", again, err, n.ContainerID)
	}
	inspect, err := d.cli.ContainerInspect(ctx, n.ContainerID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hc := inspect.Container.HostConfig; len(hc.DNS) != 1 || hc.DNS[0].String() != "10.0.0.53" {
		t.Errorf("infra DNS = %v", hc.DNS)
	}

	dir := t.TempDir()
	cfg := &driver.TaskConfig{
		AllocID: alloc, JobID: "job", GroupName: "web", TaskName: "app", Image: demoImage,
		PortLabels: []string{"http"}, Ports: spec.Ports, MemoryMB: 64,
		StdoutPath: filepath.Join(dir, "stdout"), StderrPath: filepath.Join(dir, "stderr"),
	}
	cfg.NetworkMode = "container:" + n.ContainerID
	h, err := d.StartTask(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.DestroyTask(context.Background(), h, true) })

	deadline := time.Now().Add(20 * time.Second)
	for {
		body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil && strings.Contains(body, `"version"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the task did not answer on the infra container's port: %v %s", err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := d.DestroyGroupNetwork(ctx, alloc); err != nil {
		t.Fatal(err)
	}
	if _, err := d.cli.ContainerInspect(ctx, n.ContainerID, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("infra container still there: %v", err)
	}
	if err := d.DestroyGroupNetwork(ctx, alloc); err != nil {
		t.Errorf("destroying twice: %v", err)
	}
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
