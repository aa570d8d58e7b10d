// Package dockerimage makes Docker images in the local engine from a single
// static binary, without a registry and without a Dockerfile build.
//
// drover must run where no image can be pulled (air-gapped machines, CI),
// yet it needs images of its own: the demo workload of the tests and the
// infra container that holds a task group's network namespace. A static Go
// binary needs no base image, so the image is just a tiny root filesystem,
// written here as a tar stream in memory and handed to the engine's image
// import endpoint (POST /images/create?fromSrc=-) together with the image
// config as Dockerfile-style "changes".
package dockerimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// DefaultTarget is where the binary goes in the image when Options.Target
// is empty.
const DefaultTarget = "/app"

// Options is the image config. Everything is optional: the zero value gives
// an image that runs the binary as root with no arguments. There is no stop
// signal or health check: engine 20.10 refuses STOPSIGNAL and HEALTHCHECK as
// import changes, and drover sends its own signals anyway.
type Options struct {
	// Target is the binary's absolute path in the image (default /app).
	Target string
	// Entrypoint defaults to [Target].
	Entrypoint []string
	// Cmd is the default argument list.
	Cmd []string
	// Env holds KEY=VALUE pairs baked into the image.
	Env []string
	// ExposedPorts are like "8080/tcp" (a bare "8080" means tcp).
	ExposedPorts []string
	// Labels are image labels; callers use them to record what the image
	// was built from, so they can tell a stale image from a current one.
	Labels map[string]string
	// User defaults to root. /etc/passwd has root and nobody.
	User string
	// WorkingDir defaults to /.
	WorkingDir string
	// Message is recorded as the image's history comment.
	Message string
}

// Build imports a new image tagged ref (e.g. "drover-demo:v1") whose root
// filesystem holds only the binary at binaryPath and the few files a
// process expects to find. An existing image with that tag is replaced, and
// removed unless a container or another tag still uses it, so rebuilding
// does not pile up untagged images.
func Build(ctx context.Context, cli *client.Client, ref, binaryPath string, opts Options) error {
	bin, err := os.ReadFile(binaryPath)
	if err != nil {
		return fmt.Errorf("dockerimage: read binary: %w", err)
	}
	target := opts.Target
	if target == "" {
		target = DefaultTarget
	}
	if !path.IsAbs(target) || path.Clean(target) != target || target == "/" {
		return fmt.Errorf("dockerimage: target %q must be a clean absolute file path", target)
	}
	rootfs, err := rootFS(target, bin)
	if err != nil {
		return fmt.Errorf("dockerimage: write rootfs: %w", err)
	}
	changes, err := opts.changes(target)
	if err != nil {
		return fmt.Errorf("dockerimage: %w", err)
	}

	// Remembered so the image this build untags can be removed after it.
	var oldID string
	if old, err := cli.ImageInspect(ctx, ref); err == nil {
		oldID = old.ID
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("dockerimage: inspect %s: %w", ref, err)
	}

	resp, err := cli.ImageImport(ctx,
		client.ImageImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"},
		ref,
		client.ImageImportOptions{Changes: changes, Message: opts.Message})
	if err != nil {
		return fmt.Errorf("dockerimage: import %s: %w", ref, err)
	}
	defer resp.Close()
	// The engine answers 200 before it has finished, and reports failures
	// inside the JSON message stream, so the stream must be read to the end.
	if err := readMessages(resp); err != nil {
		return fmt.Errorf("dockerimage: import %s: %w", ref, err)
	}

	if oldID != "" {
		if cur, err := cli.ImageInspect(ctx, ref); err == nil && cur.ID != oldID {
			// Not forced: the engine refuses while a container or another
			// tag uses the image, which is the case to leave alone.
			_, _ = cli.ImageRemove(ctx, oldID, client.ImageRemoveOptions{})
		}
	}
	return nil
}

// Exists reports whether the local engine has an image by this reference.
func Exists(ctx context.Context, cli *client.Client, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("dockerimage: inspect %s: %w", ref, err)
	}
}

// Labels returns the labels of a local image, and false when there is no
// such image.
func Labels(ctx context.Context, cli *client.Client, ref string) (map[string]string, bool, error) {
	img, err := cli.ImageInspect(ctx, ref)
	switch {
	case cerrdefs.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("dockerimage: inspect %s: %w", ref, err)
	}
	if img.Config == nil {
		return map[string]string{}, true, nil
	}
	return maps.Clone(img.Config.Labels), true, nil
}

// fixedTime is the modification time of every file in the layer. A fixed
// time makes the layer a pure function of the binary, so rebuilding the
// same binary yields the same layer digest and the engine stores it once.
var fixedTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// passwd and group give the image a root and a nobody user: some programs
// (and Docker's User: "nobody") need the name to resolve.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
	group = "root:x:0:\nnobody:x:65534:\n"
)

// rootFS writes the layer: the binary at target (with its parent
// directories), /etc/passwd, /etc/group, and the empty directories
// processes take for granted (/tmp world-writable and sticky, /root).
// The engine adds /dev, /proc, /sys and the /etc/hosts family at run time.
func rootFS(target string, bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)

	dirs := map[string]int64{"etc/": 0o755, "tmp/": 0o1777, "root/": 0o700}
	// The binary's parent directories, e.g. usr/ and usr/local/bin/ for
	// /usr/local/bin/app; a tar entry for a file must follow its directory.
	for d := path.Dir(target[1:]); d != "."; d = path.Dir(d) {
		if _, ok := dirs[d+"/"]; !ok {
			dirs[d+"/"] = 0o755
		}
	}
	// Sorted, so parents come before children and the output is stable.
	for _, name := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeDir, Name: name, Mode: dirs[name], ModTime: fixedTime,
		}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/passwd", 0o644, []byte(passwd)},
		{"etc/group", 0o644, []byte(group)},
		{target[1:], 0o755, bin},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: fixedTime,
		}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// changes renders the options as the Dockerfile instructions the import
// endpoint accepts. List-valued instructions use the JSON (exec) form so no
// shell is involved; string values are quoted because the engine runs the
// Dockerfile word parser (with $VAR expansion) over them.
func (o Options) changes(target string) ([]string, error) {
	entrypoint := o.Entrypoint
	if len(entrypoint) == 0 {
		entrypoint = []string{target}
	}
	for _, kv := range o.Env {
		if err := noNewline("env", kv); err != nil {
			return nil, err
		}
	}
	for k, v := range o.Labels {
		if err := noNewline("label", k+v); err != nil {
			return nil, err
		}
	}
	var out []string
	addJSON := func(instr string, v []string) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out = append(out, instr+" "+string(b))
		return nil
	}
	if err := addJSON("ENTRYPOINT", entrypoint); err != nil {
		return nil, err
	}
	if len(o.Cmd) > 0 {
		if err := addJSON("CMD", o.Cmd); err != nil {
			return nil, err
		}
	}
	for _, kv := range o.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\n\"'$=\\") {
			return nil, fmt.Errorf("env %q: want KEY=VALUE", kv)
		}
		out = append(out, "ENV "+k+"="+quote(v))
	}
	for _, p := range o.ExposedPorts {
		if p == "" || strings.ContainsAny(p, " \t\n\"'$\\") {
			return nil, fmt.Errorf("exposed port %q", p)
		}
		out = append(out, "EXPOSE "+p)
	}
	for _, k := range slices.Sorted(maps.Keys(o.Labels)) {
		if k == "" {
			return nil, errors.New("empty label key")
		}
		out = append(out, "LABEL "+quote(k)+"="+quote(o.Labels[k]))
	}
	for _, iv := range [][2]string{{"USER", o.User}, {"WORKDIR", o.WorkingDir}} {
		instr, v := iv[0], iv[1]
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, " \t\n\"'$\\") {
			return nil, fmt.Errorf("%s %q: unexpected characters", instr, v)
		}
		out = append(out, instr+" "+v)
	}
	return out, nil
}

// quote puts s in double quotes for the Dockerfile word parser: inside
// them, a backslash escapes `"`, `\` and `$`, and nothing else is special.
// Callers refuse newlines first (see noNewline): one would end the
// instruction.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func noNewline(what, s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("%s %q: newlines are not allowed", what, s)
	}
	return nil
}

// readMessages drains the engine's JSON message stream and returns the
// first error it reports.
func readMessages(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read response: %w", err)
		}
		if m.Error != nil {
			return m.Error
		}
	}
}
