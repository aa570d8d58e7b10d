package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drover-project/drover/api"
)

// The ports every agent uses. Each agent has a namespace and an address of
// its own, so the documented defaults never clash.
const (
	HTTPPort = 4746
	RPCPort  = 4747
	SerfPort = 4748
)

// startTimeout bounds the wait for an agent's banner; stopTimeout the wait
// for a clean exit after SIGTERM before the harness uses SIGKILL.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 20 * time.Second
)

// bannerPrefix is what `drover agent` prints once its HTTP API listens.
const bannerPrefix = "==> drover agent started; HTTP API at "

// Agent is one drover agent of a cluster: a process in its own network
// namespace, started again with the same data dir after a kill or stop.
//
// The methods that can fail call the cluster's T.Fatalf, so call them from
// the test's goroutine; Leader and the api client are safe anywhere.
type Agent struct {
	// Name is the agent's node name: server-1, client-2, ...
	Name   string
	Server bool
	// IP is the agent's address on the cluster's private network.
	IP string
	// HTTP is the base URL of the agent's HTTP API, e.g. "http://10.213.7.11:4746".
	HTTP string
	// RPCAddr is "IP:4747", as /v1/status/leader names a leader.
	RPCAddr string
	// SerfAddr is "IP:4748", the gossip address others join.
	SerfAddr string
	// DataDir is the agent's -data-dir.
	DataDir string
	// Netns is the network namespace the agent runs in.
	Netns string
	// PublishIP is where a client publishes task ports, and
	// MinDynamicPort and MaxDynamicPort its port range, under
	// Options.PublishPorts; empty and zero otherwise.
	PublishIP                      string
	MinDynamicPort, MaxDynamicPort int

	c       *Cluster
	args    []string
	logPath string
	client  *api.Client

	mu     sync.Mutex
	proc   *process // the last run; nil once the harness ended it
	paused bool
}

// process is one run of the agent's binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
}

// Start starts the agent (again, after Kill or Stop) with its data dir as
// it is, and waits until its HTTP API listens.
func (a *Agent) Start() {
	a.c.t.Helper()
	if err := a.start(); err != nil {
		a.c.t.Fatalf("%v", err)
	}
}

func (a *Agent) start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.alive() {
		return fmt.Errorf("start %s: already running", a.Name)
	}
	logf, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "==== harness: %s starting %s\n", time.Now().Format(time.RFC3339Nano), a.Name)
	banner := make(chan struct{})
	args := append([]string{"netns", "exec", a.Netns, a.c.bin}, a.args...)
	cmd := exec.Command("ip", args...)
	cmd.Stdout = &bannerWriter{w: logf, seen: banner}
	cmd.Stderr = logf
	// `ip netns exec` execs the agent in its own place, so the process is
	// the agent itself: signals reach it directly. If the test binary dies
	// without cleaning up, the kernel kills the agent too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", a.Name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		fmt.Fprintf(logf, "==== harness: %s %s exited: %v\n", time.Now().Format(time.RFC3339Nano), a.Name, p.err)
		logf.Close()
		close(p.done)
	}()
	a.proc, a.paused = p, false

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-banner:
		return nil
	case <-p.done:
		a.proc = nil
		return fmt.Errorf("%s exited before serving (%v); the end of its log: %s", a.Name, p.err, lastLine(a.Log()))
	case <-timer.C:
		cmd.Process.Kill()
		<-p.done
		a.proc = nil
		return fmt.Errorf("%s did not serve within %s; the end of its log: %s", a.Name, startTimeout, lastLine(a.Log()))
	}
}

// Running reports whether the agent's process runs (paused counts).
func (a *Agent) Running() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.alive()
}

// alive reports whether the current process has not exited; a.mu is held.
func (a *Agent) alive() bool {
	if a.proc == nil {
		return false
	}
	select {
	case <-a.proc.done:
		return false // it crashed or exited on its own
	default:
		return true
	}
}

// Exited reports whether the agent's last process ended without the
// harness ending it, and how.
func (a *Agent) Exited() (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil || a.alive() {
		return false, nil
	}
	return true, a.proc.err
}

// Paused reports whether the agent is stopped with SIGSTOP.
func (a *Agent) Paused() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paused
}

// Kill ends the agent at once with SIGKILL, as a crash or power loss would.
func (a *Agent) Kill() {
	a.c.t.Helper()
	if err := a.kill(); err != nil {
		a.c.t.Fatalf("%v", err)
	}
}

func (a *Agent) kill() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.proc
	if p == nil {
		return fmt.Errorf("kill %s: not running", a.Name)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", a.Name, err)
	}
	<-p.done
	a.proc, a.paused = nil, false
	return nil
}

// Stop asks the agent to leave with SIGTERM and waits for it to exit; one
// that takes longer than 20 s is killed and fails the test.
func (a *Agent) Stop() {
	a.c.t.Helper()
	if err := a.stop(); err != nil {
		a.c.t.Fatalf("%v", err)
	}
}

func (a *Agent) stop() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.proc
	if p == nil {
		return nil
	}
	err := p.cmd.Process.Signal(syscall.SIGTERM)
	if a.paused {
		// A stopped process handles SIGTERM only once continued.
		p.cmd.Process.Signal(syscall.SIGCONT)
	}
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", a.Name, err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		err = nil
	case <-timer.C:
		p.cmd.Process.Kill()
		<-p.done
		err = fmt.Errorf("stop %s: no exit within %s of SIGTERM; killed", a.Name, stopTimeout)
	}
	a.proc, a.paused = nil, false
	return err
}

// Restart stops the agent (SIGTERM) if it runs and starts it again with
// the same data dir.
func (a *Agent) Restart() {
	a.c.t.Helper()
	a.Stop()
	a.Start()
}

// Pause freezes the agent with SIGSTOP: its sockets stay open but it
// answers nothing, like a process stuck in a long GC pause or a VM frozen.
func (a *Agent) Pause() {
	a.c.t.Helper()
	if err := a.signal(syscall.SIGSTOP, true); err != nil {
		a.c.t.Fatalf("%v", err)
	}
}

// Resume continues a paused agent with SIGCONT.
func (a *Agent) Resume() {
	a.c.t.Helper()
	if err := a.signal(syscall.SIGCONT, false); err != nil {
		a.c.t.Fatalf("%v", err)
	}
}

func (a *Agent) signal(sig syscall.Signal, paused bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil {
		return fmt.Errorf("signal %s: %s is not running", sig, a.Name)
	}
	if err := a.proc.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal %s to %s: %w", sig, a.Name, err)
	}
	a.paused = paused
	return nil
}

// WipeData empties the agent's data dir, as a replaced disk would. The
// agent must not be running.
func (a *Agent) WipeData() {
	a.c.t.Helper()
	if a.Running() {
		a.c.t.Fatalf("wipe data of %s: stop or kill it first", a.Name)
	}
	if err := os.RemoveAll(a.DataDir); err != nil {
		a.c.t.Fatalf("wipe data of %s: %v", a.Name, err)
	}
	if err := os.MkdirAll(a.DataDir, 0o755); err != nil {
		a.c.t.Fatalf("wipe data of %s: %v", a.Name, err)
	}
}

// Log is everything the agent printed, over all its runs.
func (a *Agent) Log() string {
	data, err := os.ReadFile(a.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(data)
}

// logTail is the last n lines of the log.
func (a *Agent) logTail(n int) string {
	lines := strings.SplitAfter(a.Log(), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)\n", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}

// lastLine is the last line of the agent's own output in a log, for an
// error message; the whole log is printed when the test fails.
func lastLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], "==== harness:") {
			return lines[i]
		}
	}
	return "(nothing)"
}

// API is a client of the agent's HTTP API. Its requests give up after 30
// seconds, so a paused or cut-off agent cannot hang a test.
func (a *Agent) API() *api.Client { return a.client }

// Leader asks the agent which server it believes leads: the leader's RPC
// address, or "" when it knows none. It gives up after 2 seconds.
func (a *Agent) Leader() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.HTTP+"/v1/status/leader", nil)
	if err != nil {
		return "", err
	}
	resp, err := a.c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: GET /v1/status/leader: %s: %s", a.Name, resp.Status, bytes.TrimSpace(body))
	}
	var leader string
	if err := json.Unmarshal(body, &leader); err != nil {
		return "", fmt.Errorf("%s: GET /v1/status/leader answered %q: %w", a.Name, body, err)
	}
	return leader, nil
}

// CanConnect reports whether a TCP connection from inside the agent's
// namespace to addr ("IP:port") succeeds within two seconds. It tells a
// real partition from a slow agent.
func (a *Agent) CanConnect(addr string) bool {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return false
	}
	_, err := run("ip", "netns", "exec", a.Netns, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/"+host+"/"+port)
	return err == nil
}

func (a *Agent) String() string { return a.Name }

// bannerWriter copies the agent's stdout to its log and closes seen at
// the first line that starts with the banner.
type bannerWriter struct {
	w    io.Writer
	seen chan struct{}
	line []byte // the current line, up to the banner's length
	done bool
}

func (b *bannerWriter) Write(p []byte) (int, error) {
	if !b.done {
		for _, c := range p {
			if c == '\n' {
				b.line = b.line[:0]
				continue
			}
			if len(b.line) < len(bannerPrefix) {
				b.line = append(b.line, c)
				if string(b.line) == bannerPrefix {
					b.done = true
					close(b.seen)
					break
				}
			}
		}
	}
	return b.w.Write(p)
}
