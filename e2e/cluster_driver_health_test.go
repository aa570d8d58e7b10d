package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/e2e/cluster"
	"github.com/drover-project/drover/structs"
)

// TestClusterDriverHealthIsLive gives one of two clients its Docker engine
// through a unix socket proxy the test controls. Cutting the proxy is an
// engine gone away while the client runs: the client's next fingerprint
// marks the docker driver unhealthy, and a system job registered then runs
// on the other client only. Restoring the proxy makes the driver healthy
// again, and the system job lands there without any action.
func TestClusterDriverHealthIsLive(t *testing.T) {
	docker, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer docker.Close()
	const jobBefore, jobDuring = "e2e-health-before", "e2e-health-during"
	removeContainersAtEnd(t, jobBefore, jobDuring)
	proxy := newSocketProxy(t, filepath.Join(t.TempDir(), "docker.sock"), engineSocket())
	proxy.Start()

	c := cluster.New(t, cluster.Options{Binary: droverBin, Servers: 1})
	cl := c.WaitLeader(60 * time.Second).API()
	plain := c.AddClient("")
	proxied := c.AddClient(fmt.Sprintf("client {\n  options = { \"docker.endpoint\" = \"unix://%s\" }\n}\n", proxy.path))
	nodeOf := waitClientNodes(t, c, cl)
	idOf := map[*cluster.Agent]string{}
	for id, a := range nodeOf {
		idOf[a] = id
	}
	waitDockerHealth(t, cl, proxied, idOf[proxied], true, 30*time.Second)

	registerSrc(t, cl, fmt.Sprintf(healthSystemJob, jobBefore))
	assertPlacement(t, cl, nodeOf, jobBefore, map[string]int{plain.Name: 1, proxied.Name: 1})

	proxy.Stop()
	// The client asks its drivers every 15 s.
	waitDockerHealth(t, cl, proxied, idOf[proxied], false, 45*time.Second)
	registerSrc(t, cl, fmt.Sprintf(healthSystemJob, jobDuring))
	assertPlacement(t, cl, nodeOf, jobDuring, map[string]int{plain.Name: 1})
	waitEvalsDone(t, cl, jobDuring)
	stubs, _, err := cl.Jobs().Allocations(jobDuring, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stubs {
		if s.NodeID == idOf[proxied] {
			t.Errorf("allocation %s of %s placed on %s, whose docker driver is unhealthy", s.ID, jobDuring, proxied.Name)
		}
	}

	proxy.Start()
	waitDockerHealth(t, cl, proxied, idOf[proxied], true, 45*time.Second)
	assertPlacement(t, cl, nodeOf, jobDuring, map[string]int{plain.Name: 1, proxied.Name: 1})
}

const healthSystemJob = `
job %q {
  type = "system"
  group "g" {
    task "app" {
      driver = "docker"
      config {
        image = "drover-demo:v1"
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`

// waitDockerHealth waits until the node is ready and reports its docker
// driver healthy (or not).
func waitDockerHealth(t *testing.T, cl *api.Client, a *cluster.Agent, nodeID string, healthy bool, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%s's docker driver healthy=%v", a.Name, healthy), func() (bool, error) {
		node, _, err := cl.Nodes().Info(nodeID, nil)
		if err != nil {
			return false, err
		}
		d := node.Drivers["docker"]
		return node.Status == structs.NodeStatusReady && d != nil && d.Healthy == healthy,
			fmt.Errorf("status %s, docker %+v", node.Status, d)
	})
}

// waitEvalsDone waits until no evaluation of the job is pending.
func waitEvalsDone(t *testing.T, cl *api.Client, jobID string) {
	t.Helper()
	waitFor(t, 30*time.Second, "the evaluations of "+jobID+" done", func() (bool, error) {
		evals, _, err := cl.Jobs().Evaluations(jobID, nil)
		if err != nil {
			return false, err
		}
		for _, e := range evals {
			if e.Status == structs.EvalStatusPending {
				return false, fmt.Errorf("evaluation %s pending", e.ID)
			}
		}
		return len(evals) > 0, fmt.Errorf("no evaluation")
	})
}

// engineSocket is the Docker engine's unix socket: DOCKER_HOST's when it
// names one, else the default.
func engineSocket() string {
	if h := os.Getenv("DOCKER_HOST"); len(h) > len("unix://") && h[:len("unix://")] == "unix://" {
		return h[len("unix://"):]
	}
	return "/var/run/docker.sock"
}

// socketProxy forwards connections on a unix socket to another one, and
// can be cut (every connection closed, nothing accepted) and restored.
type socketProxy struct {
	t      *testing.T
	path   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newSocketProxy(t *testing.T, path, target string) *socketProxy {
	p := &socketProxy{t: t, path: path, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(p.Stop)
	return p
}

// Start listens again at the path.
func (p *socketProxy) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.t.Fatal(err)
	}
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		p.t.Fatal(err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.accept(ln)
}

func (p *socketProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		in, err := ln.Accept()
		if err != nil {
			return // closed by Stop
		}
		out, err := net.Dial("unix", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *socketProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Stop closes the listener and every connection, and waits for the
// forwarding goroutines to end.
func (p *socketProxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
