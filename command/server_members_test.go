package command

import (
	"strings"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestFormatMembers(t *testing.T) {
	tags := func(dc string) map[string]string {
		return map[string]string{"region": "global", "dc": dc, "build": "0.1.0", "raft_vsn": "3", "role": "server"}
	}
	members := []*structs.AgentMember{
		{Name: "s2.global", Addr: "10.0.0.2", Port: 4748, Status: "failed", Tags: tags("dc1"), RaftState: "voter"},
		{Name: "s1.global", Addr: "10.0.0.1", Port: 4748, Status: "alive", Tags: tags("dc1"), Leader: true, RaftState: "voter"},
	}
	want := strings.TrimSpace(`
Name       Address   Port  Status  Leader  Raft Version  Build  Datacenter  Region  Raft State
s1.global  10.0.0.1  4748  alive   true    3             0.1.0  dc1         global  voter
s2.global  10.0.0.2  4748  failed  false   3             0.1.0  dc1         global  voter`)
	if got := formatMembers(members, false); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	verbose := formatMembers(members, true)
	if !strings.Contains(verbose, "Tags") || !strings.Contains(verbose, "build=0.1.0,dc=dc1,raft_vsn=3,region=global,role=server") {
		t.Fatalf("verbose:\n%s", verbose)
	}
}
