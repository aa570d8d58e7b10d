package demoimage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

func TestInvalidTagIsRejectedBeforeAnyWork(t *testing.T) {
	for _, tag := range []string{"", "has space", "-x", "v1 -X main.x=y"} {
		if err := Ensure(context.Background(), tag); err == nil {
			t.Errorf("tag %q accepted", tag)
		}
	}
}

func TestSourceHashFollowsSourceNotTests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", "package main")
	h1, err := sourceHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	write("main_test.go", "package main // tests do not go into the image")
	if h2, _ := sourceHash(dir); h2 != h1 {
		t.Error("a test file changed the hash")
	}
	write("main.go", "package main // changed")
	if h3, _ := sourceHash(dir); h3 == h1 {
		t.Error("a source change did not change the hash")
	}
	if imageHash(h1, "v1") == imageHash(h1, "v2") {
		t.Error("tags share an image hash")
	}
}

// TestEnsureIsIdempotent builds (or finds) v1 and checks a second Ensure
// leaves the image alone.
func TestEnsureIsIdempotent(t *testing.T) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}

	if err := Ensure(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	before, err := cli.ImageInspect(ctx, Ref("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Ensure(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	after, err := cli.ImageInspect(ctx, Ref("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if before.ID != after.ID {
		t.Errorf("second Ensure rebuilt the image: %s then %s", before.ID, after.ID)
	}
	if after.Config == nil || after.Config.Labels["org.opencontainers.image.version"] != "v1" {
		t.Errorf("image config = %+v", after.Config)
	}
}
