package docker

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/drover-project/drover/client/driver"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The benchmarks measure the cost of starting a container, bare and through
// the driver, so drover's overhead over the engine can be read off as the
// difference. Removal is outside the timed part.
//
//	go test -run '^$' -bench . ./client/driver/docker

// BenchmarkDockerCreateStart is the engine alone: create and start one
// container of the demo image, no ports, no log copying.
func BenchmarkDockerCreateStart(b *testing.B) {
	d := newDriver(b)
	ctx := context.Background()
	var ids []string
	b.Cleanup(func() { removeAll(d, ids) })

	for i := 0; b.Loop(); i++ {
		created, err := d.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       fmt.Sprintf("drover-bench-%d-%s", i, newAllocID()[:8]),
			Config:     &container.Config{Image: demoImage},
			HostConfig: &container.HostConfig{},
		})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, created.ID)
		if _, err := d.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDriverStartTask is StartTask: image check, create with labels,
// resources and a published port, log files, start, and log following.
func BenchmarkDriverStartTask(b *testing.B) {
	d := newDriver(b)
	ctx := context.Background()
	var ids []string
	b.Cleanup(func() { removeAll(d, ids) })
	dir := b.TempDir()

	for i := 0; b.Loop(); i++ {
		alloc := newAllocID()
		cfg := &driver.TaskConfig{
			AllocID:    alloc,
			JobID:      "bench",
			GroupName:  "web",
			TaskName:   "server",
			Image:      demoImage,
			Env:        map[string]string{"NOMAD_ALLOC_ID": alloc},
			PortLabels: []string{"http"},
			Ports:      []driver.PortMapping{{Label: "http", HostIP: "127.0.0.1", HostPort: freePort(b), ContainerPort: 8080}},
			MemoryMB:   64,
			StdoutPath: filepath.Join(dir, alloc, "stdout"),
			StderrPath: filepath.Join(dir, alloc, "stderr"),
		}
		h, err := d.StartTask(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, h.ContainerID)
	}
}

func removeAll(d *Driver, ids []string) {
	for _, id := range ids {
		_, _ = d.cli.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true})
	}
}
