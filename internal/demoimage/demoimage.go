// Package demoimage builds the images of the demo app (demo/app) in the local
// Docker engine: drover-demo:v1, drover-demo:v2, ... They differ only in the
// version compiled into the binary, which is what rolling-update tests need
// to see a change.
//
// Tests that run real containers call Ensure from TestMain; `make
// demo-image` (go run ./demo/mkimage) calls Make. Nothing is pulled: the
// binary is compiled from this module's source with the local Go toolchain
// and imported with internal/dockerimage.
package demoimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/drover-project/drover/internal/dockerimage"
	"github.com/moby/moby/client"
)

// Repository is the image name; tags are versions.
const Repository = "drover-demo"

// Port is the port the app listens on in its container (its default $PORT).
const Port = 8080

// DefaultTags are built when no tags are given.
var DefaultTags = []string{"v1", "v2"}

// sourceLabel records a hash of the app's source in the image, so an image
// built from older source is rebuilt rather than silently reused.
const sourceLabel = "com.drover.demo.source"

// Ref returns the image reference of a tag, e.g. "drover-demo:v1".
func Ref(tag string) string { return Repository + ":" + tag }

// Options change how Make works.
type Options struct {
	// Force rebuilds images that are present and current.
	Force bool
	// Logf, when set, is told what is built and what is skipped.
	Logf func(format string, args ...any)
}

// Ensure makes sure the images of the given tags (DefaultTags when none)
// exist and were built from the current source, building only those that
// are missing or stale. It must run inside the drover module (any
// directory of it), because it compiles demo/app from source.
func Ensure(ctx context.Context, tags ...string) error {
	return Make(ctx, Options{}, tags...)
}

// tagRE is narrower than Docker's tag grammar because the tag is also
// passed to the linker as the version string.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// Make builds the images of the given tags (DefaultTags when none).
func Make(ctx context.Context, opts Options, tags ...string) error {
	if len(tags) == 0 {
		tags = DefaultTags
	}
	for _, tag := range tags {
		if !tagRE.MatchString(tag) {
			return fmt.Errorf("demoimage: invalid tag %q", tag)
		}
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	srcHash, err := sourceHash(filepath.Join(root, "demo", "app"))
	if err != nil {
		return err
	}

	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("demoimage: docker client: %w", err)
	}
	defer cli.Close()

	unlock, err := lockFile(filepath.Join(os.TempDir(), "drover-demoimage.lock"))
	if err != nil {
		return fmt.Errorf("demoimage: lock: %w", err)
	}
	defer unlock()

	var tmp string
	for _, tag := range tags {
		ref := Ref(tag)
		want := imageHash(srcHash, tag)
		if !opts.Force {
			labels, ok, err := dockerimage.Labels(ctx, cli, ref)
			if err != nil {
				return fmt.Errorf("demoimage: %w", err)
			}
			if ok && labels[sourceLabel] == want {
				logf("%s is up to date", ref)
				continue
			}
		}
		if tmp == "" {
			if tmp, err = os.MkdirTemp("", "drover-demoimage-"); err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
		}
		bin := filepath.Join(tmp, "app-"+tag)
		if err := buildBinary(ctx, root, tag, bin); err != nil {
			return err
		}
		err := dockerimage.Build(ctx, cli, ref, bin, dockerimage.Options{
			ExposedPorts: []string{fmt.Sprintf("%d/tcp", Port)},
			Labels: map[string]string{
				sourceLabel:                        want,
				"org.opencontainers.image.version": tag,
			},
			Message: "drover demo app " + tag,
		})
		if err != nil {
			return fmt.Errorf("demoimage: %w", err)
		}
		logf("built %s", ref)
	}
	return nil
}

// moduleRoot asks the go command where the current module's go.mod is,
// which works from any directory of the module (tests run in their
// package's directory) and honours GOFLAGS=-modfile and the like.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("demoimage: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("demoimage: not inside a Go module; run from the drover repository")
	}
	root := filepath.Dir(gomod)
	if _, err := os.Stat(filepath.Join(root, "demo", "app", "main.go")); err != nil {
		return "", fmt.Errorf("demoimage: %s is not the drover module: %w", root, err)
	}
	return root, nil
}

// sourceHash hashes the app's non-test Go files, names and contents.
func sourceHash(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("demoimage: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(name), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// imageHash ties the source hash to the tag, since the tag is compiled in.
func imageHash(srcHash, tag string) string {
	sum := sha256.Sum256([]byte(srcHash + " " + tag))
	return hex.EncodeToString(sum[:])
}

// buildBinary compiles demo/app as a static Linux binary reporting tag as
// its version. -trimpath and -s -w keep it small and free of local paths.
//
// GOFLAGS is replaced, not inherited: Ensure runs inside `go test`, whose
// flags (GOFLAGS=-race, -cover...) are meant for the code under test and
// would break or bloat a CGO-less build of an app that uses only the
// standard library. -buildvcs=false keeps the build independent of the
// state of the checkout.
func buildBinary(ctx context.Context, root, tag, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+tag,
		"-o", out, "./demo/app")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("demoimage: go build ./demo/app (%s): %w\n%s", tag, err, b)
	}
	return nil
}
