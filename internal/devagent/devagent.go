// Package devagent builds the drover binary and runs `drover agent -dev` as
// a separate process, for end-to-end tests and benchmarks that must go
// through the real agent.
package devagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles drover into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "drover")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the drover module")
	}
	return filepath.Dir(mod), nil
}

// Agent is a running agent process.
type Agent struct {
	// Addr is the agent's HTTP API, e.g. "http://127.0.0.1:41234".
	Addr    string
	DataDir string

	cmd  *exec.Cmd
	done chan struct{}
	err  error

	mu  sync.Mutex
	log strings.Builder
}

// bannerPrefix is what `drover agent` prints once its HTTP API listens.
const bannerPrefix = "==> drover agent started; HTTP API at "

// Start runs `drover agent -dev` on free ports with the given data dir and
// waits until its HTTP API is up.
func Start(ctx context.Context, bin, dataDir string, extraArgs ...string) (*Agent, error) {
	args := append([]string{"agent", "-dev", "-http-port", "0", "-rpc-port", "0", "-data-dir", dataDir, "-log-level", "debug"}, extraArgs...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	a := &Agent{DataDir: dataDir, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{a: a}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	go func() {
		a.err = cmd.Wait()
		close(a.done)
	}()

	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			a.append(line + "\n")
			if rest, ok := strings.CutPrefix(line, bannerPrefix); ok {
				select {
				case addrCh <- strings.TrimSpace(rest):
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()

	select {
	case a.Addr = <-addrCh:
		return a, nil
	case <-a.done:
		return nil, fmt.Errorf("agent exited before serving: %v\n%s", a.err, a.Log())
	case <-time.After(60 * time.Second):
		a.Kill()
		return nil, fmt.Errorf("agent did not start within a minute\n%s", a.Log())
	case <-ctx.Done():
		a.Kill()
		return nil, ctx.Err()
	}
}

func (a *Agent) append(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log.WriteString(s)
}

// Log is everything the agent printed so far.
func (a *Agent) Log() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.String()
}

// Pid is the agent's process ID.
func (a *Agent) Pid() int { return a.cmd.Process.Pid }

// Stop sends SIGTERM and waits for a clean exit.
func (a *Agent) Stop(timeout time.Duration) error {
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-a.done:
		return a.err
	case <-time.After(timeout):
		a.Kill()
		return fmt.Errorf("agent did not stop within %s", timeout)
	}
}

// Kill ends the agent at once (SIGKILL).
func (a *Agent) Kill() {
	a.cmd.Process.Kill()
	<-a.done
}

type lockedWriter struct{ a *Agent }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.a.append(string(p))
	return len(p), nil
}
