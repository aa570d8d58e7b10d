package allocdir

import (
	"os"
	"path/filepath"
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
