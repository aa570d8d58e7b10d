package allocdir

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildLayout(t *testing.T) {
	data := t.TempDir()
	d := New(data, "a1")
	if err := d.Build([]string{"web"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Build([]string{"web"}); err != nil {
		t.Fatalf("Build is not idempotent: %v", err)
	}
	for _, p := range []string{"alloc", "alloc/logs", "web/local", "web/secrets"} {
		if _, err := os.Stat(filepath.Join(data, "alloc", "a1", p)); err != nil {
			t.Error(err)
		}
	}
	if info, _ := os.Stat(d.TaskDir("web").SecretsDir); info.Mode().Perm() != 0o700 {
		t.Errorf("secrets mode = %v", info.Mode().Perm())
	}
	if on, err := d.SecretsOnTmpfs("web"); err != nil || on {
		t.Errorf("without SecretsTmpfs, secrets/ is a mount point (%v, %v)", on, err)
	}
	if got := d.LogPath("web", Stdout, 0); got != filepath.Join(data, "alloc", "a1", "alloc", "logs", "web.stdout.0") {
		t.Errorf("log path = %s", got)
	}
	if !d.HasTask("web") || d.HasTask("db") || d.HasTask("../a1") || d.HasTask("alloc") {
		t.Error("HasTask is wrong")
	}
}

func TestBuildRejectsEscapingNames(t *testing.T) {
	for _, name := range []string{"", "..", "a/b", "alloc"} {
		if err := New(t.TempDir(), "a1").Build([]string{name}); err == nil {
			t.Errorf("task name %q accepted", name)
		}
	}
}

// TestSecretsIsTmpfs: as root, each task's secrets/ is a 1 MiB tmpfs,
// noexec, nosuid and nodev, mounted once however often Build runs, and
// Destroy unmounts it before removing the directory.
func TestSecretsIsTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	d := New(t.TempDir(), "a1")
	d.SecretsTmpfs = true
	var logs bytes.Buffer
	d.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := d.Build([]string{"web", "db"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Build([]string{"web", "db"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Destroy() })
	for _, task := range []string{"web", "db"} {
		secrets := d.TaskDir(task).SecretsDir
		mounts := mountsAt(t, secrets)
		if len(mounts) != 1 {
			t.Fatalf("%s: %d mounts, want one tmpfs: %v", secrets, len(mounts), mounts)
		}
		f := strings.Fields(mounts[0])
		if f[2] != "tmpfs" {
			t.Errorf("%s is %s, want tmpfs", secrets, f[2])
		}
		for _, opt := range []string{"nosuid", "nodev", "noexec", "size=1024k", "mode=700"} {
			if !strings.Contains(","+f[3]+",", ","+opt+",") {
				t.Errorf("%s mounted with %s, lacks %s", secrets, f[3], opt)
			}
		}
		if on, err := d.SecretsOnTmpfs(task); err != nil || !on {
			t.Errorf("SecretsOnTmpfs(%s) = %v, %v", task, on, err)
		}
		if err := os.WriteFile(filepath.Join(secrets, "token"), []byte("s3cret"), 0o600); err != nil {
			t.Errorf("write into %s: %v", secrets, err)
		}
	}
	if logs.Len() > 0 {
		t.Errorf("warnings as root: %s", logs.String())
	}
	if err := d.Destroy(); err != nil {
		t.Fatal(err)
	}
	if d.Exists() {
		t.Error("the directory is still there after Destroy")
	}
	for _, task := range []string{"web", "db"} {
		if m := mountsAt(t, d.TaskDir(task).SecretsDir); len(m) > 0 {
			t.Errorf("still mounted after Destroy: %v", m)
		}
	}
}

// TestSecretsFallsBackWithoutRoot plays a client that is not root:
// secrets/ is then a plain directory, and the log says so.
func TestSecretsFallsBackWithoutRoot(t *testing.T) {
	old := geteuid
	geteuid = func() int { return 1000 }
	t.Cleanup(func() { geteuid = old })
	d := New(t.TempDir(), "a1")
	d.SecretsTmpfs = true
	var logs bytes.Buffer
	d.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	if err := d.Build([]string{"web", "db"}); err != nil {
		t.Fatal(err)
	}
	for _, task := range []string{"web", "db"} {
		if on, err := d.SecretsOnTmpfs(task); err != nil || on {
			t.Errorf("SecretsOnTmpfs(%s) = %v, %v; want a plain directory", task, on, err)
		}
	}
	// One warning for the allocation, with the reason.
	if strings.Count(logs.String(), "not tmpfs") != 1 || !strings.Contains(logs.String(), "uid 1000") {
		t.Errorf("want one warning that says why: %q", logs.String())
	}
}

// mountsAt lists the lines of /proc/self/mounts whose mount point is dir.
func mountsAt(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 3 && f[1] == dir {
			out = append(out, sc.Text())
		}
	}
	return out
}
