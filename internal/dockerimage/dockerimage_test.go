package dockerimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

func TestChanges(t *testing.T) {
	got, err := Options{
		Cmd:          []string{"-v", "x y"},
		Env:          []string{`A=has space`, `B=$HOME "q" \`},
		ExposedPorts: []string{"8080/tcp"},
		Labels:       map[string]string{"b": "2", "a.b/c": "1"},
		User:         "nobody",
		WorkingDir:   "/srv",
	}.changes("/app")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`ENTRYPOINT ["/app"]`,
		`CMD ["-v","x y"]`,
		`ENV A="has space"`,
		`ENV B="\$HOME \"q\" \\"`,
		`EXPOSE 8080/tcp`,
		`LABEL "a.b/c"="1"`,
		`LABEL "b"="2"`,
	}
	want = append(want, "USER nobody", "WORKDIR /srv")
	if !slices.Equal(got, want) {
		t.Errorf("changes =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestChangesRejectsBadInput(t *testing.T) {
	for _, o := range []Options{
		{Env: []string{"NOEQUALS"}},
		{Env: []string{"=v"}},
		{Env: []string{"A=line\nbreak"}},
		{Labels: map[string]string{"k": "a\nb"}},
		{Labels: map[string]string{"": "v"}},
		{ExposedPorts: []string{"80 443"}},
		{User: "a b"},
	} {
		if _, err := o.changes("/app"); err == nil {
			t.Errorf("changes(%+v) succeeded", o)
		}
	}
}

func TestRootFS(t *testing.T) {
	b, err := rootFS("/usr/local/bin/tool", []byte("#!binary"))
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]int64{}
	seen := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// Every entry's parent directory must already have been written.
		if parent := filepath.Dir(strings.TrimSuffix(h.Name, "/")); parent != "." && !seen[parent+"/"] {
			t.Errorf("%s comes before its directory %s/", h.Name, parent)
		}
		seen[h.Name] = true
		modes[h.Name] = h.Mode
	}
	for name, mode := range map[string]int64{
		"usr/local/bin/tool": 0o755,
		"tmp/":               0o1777,
		"etc/passwd":         0o644,
		"etc/group":          0o644,
	} {
		if got, ok := modes[name]; !ok || got != mode {
			t.Errorf("%s: mode %o (present %v), want %o", name, got, ok, mode)
		}
	}
	// Same input, same bytes: the layer digest is stable.
	again, _ := rootFS("/usr/local/bin/tool", []byte("#!binary"))
	if !bytes.Equal(b, again) {
		t.Error("rootFS is not deterministic")
	}
}

func TestBuildRejectsBadTarget(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(bin, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"app", "/", "/a/../b"} {
		// No engine is contacted: validation comes first.
		if err := Build(context.Background(), nil, "x:y", bin, Options{Target: target}); err == nil {
			t.Errorf("target %q accepted", target)
		}
	}
}

// dockerClient returns a client of the local engine, or skips the test when
// there is none.
func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	return cli
}

// TestBuildAndRun builds an image from the probe program and runs it, so
// the image config is checked from inside the container.
func TestBuildAndRun(t *testing.T) {
	t.Parallel()
	cli := dockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "probe")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./testdata/probe")
	// GOFLAGS of the test run (-race, -cover) are not for the probe.
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	ref := "drover-dockerimage-test:" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		_, _ = cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true})
	})

	if ok, err := Exists(ctx, cli, ref); err != nil || ok {
		t.Fatalf("Exists before build = %v, %v", ok, err)
	}
	err := Build(ctx, cli, ref, bin, Options{
		Target:       "/usr/bin/probe",
		Cmd:          []string{"first arg"},
		Env:          []string{`GREETING=hello $USER "world"`},
		ExposedPorts: []string{"8080"},
		Labels:       map[string]string{"com.drover.test": "yes"},
		User:         "nobody",
		WorkingDir:   "/tmp",
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Exists(ctx, cli, ref); err != nil || !ok {
		t.Fatalf("Exists after build = %v, %v", ok, err)
	}
	labels, ok, err := Labels(ctx, cli, ref)
	if err != nil || !ok || labels["com.drover.test"] != "yes" {
		t.Fatalf("Labels = %v, %v, %v", labels, ok, err)
	}
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config.User != "nobody" || len(img.Config.ExposedPorts) != 1 {
		t.Errorf("image config = %+v", img.Config)
	}

	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Image: ref})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cli.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: "next-exit"})
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			t.Errorf("probe exited %d", res.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`args=["/usr/bin/probe" "first arg"]`,
		`GREETING="hello $USER \"world\""`,
		"uid=65534",
		"wd=/tmp",
		"tmp=dtrwxrwxrwx",
		"tmp writable",
		"passwd present",
	} {
		if !strings.Contains(stdout.String(), want+"\n") {
			t.Errorf("probe output lacks %q:\n%s%s", want, stdout.String(), stderr.String())
		}
	}
}

// TestRebuildRemovesUntaggedImage: rebuilding a tag removes the image it
// replaces, unless a container still uses that image. The "binary" is
// never run, so any file does.
func TestRebuildRemovesUntaggedImage(t *testing.T) {
	t.Parallel()
	cli := dockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(bin, []byte("not really a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	ref := "drover-dockerimage-test:rebuild-" + hex.EncodeToString(suffix)

	var ids []string
	build := func() string {
		t.Helper()
		if err := Build(ctx, cli, ref, bin, Options{}); err != nil {
			t.Fatal(err)
		}
		img, err := cli.ImageInspect(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
		return img.ID
	}
	t.Cleanup(func() {
		for _, id := range ids {
			_, _ = cli.ImageRemove(context.Background(), id, client.ImageRemoveOptions{Force: true})
		}
	})
	exists := func(id string) bool {
		_, err := cli.ImageInspect(ctx, id)
		return err == nil
	}

	first := build()
	second := build()
	if first == second || exists(first) {
		t.Errorf("first image %s still there after rebuild (second %s)", first, second)
	}

	// A container of the second image keeps it alive through a rebuild.
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Image: ref})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cli.ContainerRemove(context.Background(), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	build()
	if !exists(second) {
		t.Error("rebuild removed an image a container uses")
	}
}
