package docker

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/drover-project/drover/structs"
)

// recordingDriver is a driver whose engine client records the path of
// every request it makes.
func recordingDriver(t *testing.T) (*Driver, func() []string) {
	t.Helper()
	requireDocker(t)
	var mu sync.Mutex
	var paths []string
	cli, err := client.New(client.FromEnv, client.WithHTTPRequestHook(func(r *http.Request) error {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	d, err := New(Config{Client: cli, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), paths...)
	}
}

// A start whose image is present asks the engine only to create and start
// the container and to follow its output: no image inspect, no pull.
func TestStartWithPresentImageCallsTheEngineThrice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, paths := recordingDriver(t)
	for _, policy := range []string{"", structs.PullIfNotPresent, structs.PullNever} {
		t.Run("policy="+policy, func(t *testing.T) {
			cfg, _ := taskConfig(t, d, nil)
			if policy != "" {
				cfg.DriverConfig = map[string]any{"image": cfg.Image, "pull_policy": policy}
			}
			before := len(paths())
			h, err := d.StartTask(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.DestroyTask(ctx, h, true) })
			// The log stream may still be on its way.
			var calls []string
			for _, p := range paths()[before:] {
				if !strings.HasSuffix(p, "/logs") {
					calls = append(calls, p)
				}
			}
			var creates, starts, other int
			for _, c := range calls {
				switch {
				case strings.HasSuffix(c, "/containers/create"):
					creates++
				case strings.HasSuffix(c, "/start"):
					starts++
				case strings.HasSuffix(c, "/_ping"):
					// API version negotiation on the client's first request.
				default:
					other++
				}
			}
			if creates != 1 || starts != 1 || other != 0 {
				t.Errorf("engine calls of a start = %q, want one create and one start", calls)
			}
		})
	}
}

// pull_policy = "never" with a missing image fails the start with a clear
// message, and leaves no container behind.
func TestNeverWithMissingImageFailsClearly(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	cfg, _ := taskConfig(t, d, nil)
	cfg.Image = "drover-nonexistent:never"
	cfg.DriverConfig = map[string]any{"image": cfg.Image, "pull_policy": structs.PullNever}
	_, err := d.StartTask(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), `image drover-nonexistent:never is not present on this node and pull_policy is "never"`) {
		t.Fatalf("StartTask error = %v", err)
	}
	if _, err := d.cli.ContainerInspect(context.Background(), ContainerName(cfg), client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("a container was left behind: %v", err)
	}
}
