package client

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/structs"
)

func fsClient(t *testing.T) *Client {
	t.Helper()
	dataDir := t.TempDir()
	dir := allocdir.New(dataDir, "a1")
	if err := dir.Build([]string{"web"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir.SharedDir, "hello.txt"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir.TaskDir("web").SecretsDir, "token"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink that points out of the allocation directory.
	if err := os.Symlink("/etc", filepath.Join(dir.SharedDir, "escape")); err != nil {
		t.Fatal(err)
	}
	return &Client{cfg: Config{DataDir: dataDir}}
}

func TestAllocFS(t *testing.T) {
	c := fsClient(t)
	files, err := c.ListDir("a1", "/")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != "alloc" || !files[0].IsDir || files[1].Name != "web" {
		t.Errorf("ls / = %+v", files)
	}
	r, fi, err := c.OpenFile("a1", "alloc/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	if string(data) != "hi\n" || fi.Size != 3 || fi.IsDir {
		t.Errorf("cat = %q, %+v", data, fi)
	}
	if fi, err := c.StatFile("a1", "/web/local"); err != nil || !fi.IsDir {
		t.Errorf("stat web/local = %+v, %v", fi, err)
	}
}

func TestAllocFSRefusesEscapes(t *testing.T) {
	c := fsClient(t)
	for _, path := range []string{"..", "../..", "alloc/../../x", "/../../etc/passwd", "alloc/escape/passwd", "web/secrets/token", "web/secrets"} {
		if _, _, err := c.OpenFile("a1", path); !errors.Is(err, structs.ErrBadRequest) {
			t.Errorf("cat %q: %v, want a bad request", path, err)
		}
		if _, err := c.ListDir("a1", path); !errors.Is(err, structs.ErrBadRequest) {
			t.Errorf("ls %q: %v, want a bad request", path, err)
		}
	}
	if _, err := c.StatFile("a1", "alloc/missing"); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("stat of a missing file: %v", err)
	}
	if _, err := c.ListDir("nope", "/"); !errors.Is(err, structs.ErrNotFound) {
		t.Errorf("ls of an unknown allocation: %v", err)
	}
	// A path that goes down and back up stays inside: allowed.
	if _, err := c.StatFile("a1", "web/../alloc/hello.txt"); err != nil {
		t.Errorf("stat web/../alloc/hello.txt: %v", err)
	}
}
