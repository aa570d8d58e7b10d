// Package checks runs the health checks of an allocation's services on the
// client: http, tcp, script (inside the task's container) and grpc (the
// standard health service). Their results decide readiness (deployments,
// service discovery) and liveness (check_restart).
package checks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/drover-project/drover/structs"
)

// Result is one run of a check.
type Result struct {
	Status string // structs.CheckPassing, CheckWarning or CheckCritical
	Output string
	Time   time.Time
}

// Executor runs a command inside a task's container, for script checks.
type Executor interface {
	Exec(ctx context.Context, task string, cmd []string) (output []byte, exitCode int, err error)
}

// maxOutput bounds what a check keeps of a response or a script's output.
const maxOutput = 4 << 10

// probe runs one check once against addr (host:port; unused by scripts).
func probe(ctx context.Context, c *structs.ServiceCheck, addr string, exec Executor) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	switch c.Type {
	case structs.CheckTypeHTTP:
		return probeHTTP(ctx, c, addr)
	case structs.CheckTypeTCP:
		return probeTCP(ctx, addr)
	case structs.CheckTypeScript:
		return probeScript(ctx, c, exec)
	case structs.CheckTypeGRPC:
		return probeGRPC(ctx, c, addr)
	case structs.CheckTypeDocker:
		return probeDocker(ctx, c, exec)
	}
	return structs.CheckCritical, fmt.Sprintf("check type %q cannot be probed", c.Type)
}

// probeHTTP passes on a 2xx (or the expected status), warns on 429 as
// Consul does, and fails otherwise.
func probeHTTP(ctx context.Context, c *structs.ServiceCheck, addr string) (string, string) {
	scheme := c.Protocol
	if scheme == "" {
		scheme = "http"
	}
	path := c.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+addr+path, body)
	if err != nil {
		return structs.CheckCritical, err.Error()
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	transport := &http.Transport{DisableKeepAlives: true}
	if c.TLSSkipVerify {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	client := &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect answers the probe; following it would check another service
	}}
	resp, err := client.Do(req)
	if err != nil {
		return structs.CheckCritical, err.Error()
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	msg := fmt.Sprintf("HTTP %s %s: %s Output: %s", method, path, resp.Status, bytes.TrimSpace(out))
	switch {
	case c.ExpectedStatus != 0 && resp.StatusCode == c.ExpectedStatus:
		return structs.CheckPassing, msg
	case c.ExpectedStatus == 0 && resp.StatusCode >= 200 && resp.StatusCode < 300:
		return structs.CheckPassing, msg
	case resp.StatusCode == http.StatusTooManyRequests:
		return structs.CheckWarning, msg
	}
	return structs.CheckCritical, msg
}

func probeTCP(ctx context.Context, addr string) (string, string) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return structs.CheckCritical, err.Error()
	}
	conn.Close()
	return structs.CheckPassing, "TCP connect " + addr + ": Success"
}

// ImageHealth is an Executor that also reports the health a task's image
// declares, for docker checks.
type ImageHealth interface {
	ImageHealth(ctx context.Context, task string) (status, output string, err error)
}

// probeDocker takes the health the image's own HEALTHCHECK reports.
func probeDocker(ctx context.Context, c *structs.ServiceCheck, exec Executor) (string, string) {
	ih, ok := exec.(ImageHealth)
	if !ok {
		return structs.CheckCritical, "docker checks need a task whose driver reports its health"
	}
	status, output, err := ih.ImageHealth(ctx, c.TaskName)
	if err != nil {
		return structs.CheckCritical, err.Error()
	}
	return status, output
}

// probeScript follows Nagios' convention, as Nomad does: 0 passes, 1 warns,
// anything else fails.
func probeScript(ctx context.Context, c *structs.ServiceCheck, exec Executor) (string, string) {
	if exec == nil {
		return structs.CheckCritical, "script checks need a task to run in"
	}
	out, code, err := exec.Exec(ctx, c.TaskName, append([]string{c.Command}, c.Args...))
	if len(out) > maxOutput {
		out = out[:maxOutput]
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return structs.CheckCritical, fmt.Sprintf("script timed out after %s", c.Timeout)
	case err != nil:
		return structs.CheckCritical, err.Error()
	case code == 0:
		return structs.CheckPassing, string(out)
	case code == 1:
		return structs.CheckWarning, string(out)
	}
	return structs.CheckCritical, fmt.Sprintf("exit code %d: %s", code, out)
}

// probeGRPC asks the standard gRPC health service.
func probeGRPC(ctx context.Context, c *structs.ServiceCheck, addr string) (string, string) {
	creds := insecure.NewCredentials()
	if c.GRPCUseTLS {
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: c.TLSSkipVerify})
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return structs.CheckCritical, err.Error()
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.GRPCService})
	if err != nil {
		return structs.CheckCritical, err.Error()
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return structs.CheckCritical, "gRPC health: " + resp.GetStatus().String()
	}
	return structs.CheckPassing, "gRPC health: SERVING"
}
