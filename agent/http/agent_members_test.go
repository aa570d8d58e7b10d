package http_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	agenthttp "github.com/drover-project/drover/agent/http"
	"github.com/drover-project/drover/structs"
)

// membersAgent is an Agent that runs a server with a fixed member list.
type membersAgent struct {
	joined []string
	forced string
}

func (m *membersAgent) Self() map[string]any { return map[string]any{} }

func (m *membersAgent) Members() (*structs.ServerMembers, error) {
	return &structs.ServerMembers{ServerName: "s1", ServerRegion: "global", ServerDC: "dc1", Members: []*structs.AgentMember{{
		Name: "s1.global", Addr: "10.0.0.1", Port: 4748, Status: "alive", Tags: map[string]string{"role": "server"}, Leader: true, RaftState: "voter",
	}}}, nil
}

func (m *membersAgent) Join(addrs []string) (int, error) {
	m.joined = addrs
	if addrs[0] == "nowhere" {
		return 0, errors.New("no address answered")
	}
	return len(addrs), nil
}

func (m *membersAgent) ForceLeave(node string, prune bool) error {
	if node != "s3.global" {
		return structs.NotFound(errors.New("no such member"))
	}
	m.forced = node
	return nil
}

func TestAgentMembersJoinForceLeave(t *testing.T) {
	agent := &membersAgent{}
	e := newEnv(t, func(c *agenthttp.Config) { c.Agent = agent })

	resp, body := e.do(t, http.MethodGet, "/v1/agent/members", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ServerRegion":"global"`) || !strings.Contains(body, `"Name":"s1.global","Addr":"10.0.0.1","Port":4748`) {
		t.Fatalf("members: %d %s", resp.StatusCode, body)
	}

	resp, body = e.do(t, http.MethodPut, "/v1/agent/join?address=10.0.0.2&address=10.0.0.3", "")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"num_joined":2,"error":""}` || len(agent.joined) != 2 {
		t.Fatalf("join: %d %s %v", resp.StatusCode, body, agent.joined)
	}
	resp, body = e.do(t, http.MethodPut, "/v1/agent/join?address=nowhere", "")
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"num_joined":0,"error":"no address answered"}` {
		t.Fatalf("failed join: %d %s", resp.StatusCode, body)
	}
	if resp, body = e.do(t, http.MethodPut, "/v1/agent/join", ""); resp.StatusCode != 400 {
		t.Fatalf("join without address: %d %s", resp.StatusCode, body)
	}

	if resp, body = e.do(t, http.MethodPut, "/v1/agent/force-leave?node=s3.global", ""); resp.StatusCode != 200 || agent.forced != "s3.global" {
		t.Fatalf("force-leave: %d %s", resp.StatusCode, body)
	}
	if resp, body = e.do(t, http.MethodPut, "/v1/agent/force-leave?node=s9", ""); resp.StatusCode != 404 {
		t.Fatalf("force-leave of an unknown server: %d %s", resp.StatusCode, body)
	}
	if resp, body = e.do(t, http.MethodPut, "/v1/agent/force-leave", ""); resp.StatusCode != 400 {
		t.Fatalf("force-leave without node: %d %s", resp.StatusCode, body)
	}
}

func TestAgentMembersWithoutServer(t *testing.T) {
	e := newEnv(t) // backendtest.Agent has no membership
	if resp, body := e.do(t, http.MethodGet, "/v1/agent/members", ""); resp.StatusCode != 500 || !strings.Contains(body, "runs no server") {
		t.Fatalf("members on an agent without a server: %d %s", resp.StatusCode, body)
	}
}
