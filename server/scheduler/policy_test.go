package scheduler

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/drover-project/drover/structs"
)

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"dc1", "dc1", true},
		{"dc1", "dc2", false},
		{"*", "anything", true},
		{"*", "", true},
		{"us-*", "us-east-1", true},
		{"us-*", "eu-west-1", false},
		{"*-1", "us-east-1", true},
		{"us-*-1", "us-east-1", true},
		{"us-*-1", "us-east-2", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*a*b*", "xaybz", true},
		{"*a*b*", "xbya", false},
		{"dc?", "dc1", false}, // only "*" is special
		{"r/*", "r/1", true},
	}
	for _, tc := range cases {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestPoolMatches(t *testing.T) {
	cases := []struct {
		job, node string
		want      bool
	}{
		{"default", "default", true},
		{"default", "", true},
		{"", "default", true},
		{"gpu", "default", false},
		{"all", "gpu", true},
		{"gpu", "gpu", true},
	}
	for _, tc := range cases {
		if got := poolMatches(tc.job, tc.node); got != tc.want {
			t.Errorf("poolMatches(%q, %q) = %v, want %v", tc.job, tc.node, got, tc.want)
		}
	}
}

func TestBinPackScore(t *testing.T) {
	// Empty after placing nothing scores 0, full scores 1, and fuller is better.
	if got := binPackScore(1000, 1000, 0, 0); got != 0 {
		t.Errorf("empty node: %v, want 0", got)
	}
	if got := binPackScore(1000, 1000, 1000, 1000); got != 1 {
		t.Errorf("full node: %v, want 1", got)
	}
	half := binPackScore(1000, 1000, 500, 500)
	if want := (20 - 2*math.Pow(10, 0.5)) / 18; math.Abs(half-want) > 1e-9 {
		t.Errorf("half full: %v, want %v", half, want)
	}
	prev := -1.0
	for used := int64(0); used <= 1000; used += 100 {
		s := binPackScore(1000, 1000, used, used)
		if s < prev {
			t.Fatalf("score fell from %v to %v as the node filled (%d used)", prev, s, used)
		}
		prev = s
	}
	if got := binPackScore(0, 0, 10, 10); got < 0 || got > 1 {
		t.Errorf("node without capacity: %v out of [0, 1]", got)
	}
}

func TestAntiAffinityPenalty(t *testing.T) {
	if got := antiAffinityPenalty(1, 2); got != -1 {
		t.Errorf("one collision of two: %v, want -1", got)
	}
	if got := antiAffinityPenalty(1, 10); got != -0.2 {
		t.Errorf("one collision of ten: %v, want -0.2", got)
	}
	if got := antiAffinityPenalty(5, 2); got != -1 {
		t.Errorf("penalty must not pass -1: %v", got)
	}
}

func TestCandidateLimit(t *testing.T) {
	cases := map[int]int{0: 1, 1: 1, 2: minCandidates, 8: minCandidates, 300: 9, 1000: 10, 100000: 17}
	for n, want := range cases {
		if got := candidateLimit(n); got != want {
			t.Errorf("candidateLimit(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestAssignPorts(t *testing.T) {
	node := &structs.Node{ID: "n", Attributes: map[string]string{"unique.network.ip-address": "10.1.2.3"},
		NodeResources: &structs.NodeResources{MinDynamicPort: 30000, MaxDynamicPort: 30003}}
	tg := &structs.TaskGroup{Name: "web", Networks: []*structs.NetworkResource{{
		Mode:          "host",
		ReservedPorts: []structs.Port{{Label: "admin", Value: 9000, To: -1}, {Label: "metrics", Value: 9100, To: 91}},
		DynamicPorts:  []structs.Port{{Label: "http", To: 8080}, {Label: "grpc"}},
	}}}
	rng := rand.New(rand.NewPCG(1, 2))

	got, dim := assignPorts(tg, node, map[int]int{30000: 1}, rng)
	if dim != "" {
		t.Fatalf("exhausted %q", dim)
	}
	want := map[string]structs.AllocatedPortMapping{
		"admin":   {Label: "admin", Value: 9000, To: 9000, HostIP: "10.1.2.3"},
		"metrics": {Label: "metrics", Value: 9100, To: 91, HostIP: "10.1.2.3"},
	}
	seen := map[int]bool{}
	for _, p := range got.ports {
		if w, ok := want[p.Label]; ok && p != w {
			t.Errorf("port %s = %+v, want %+v", p.Label, p, w)
		}
		if seen[p.Value] {
			t.Errorf("host port %d given twice", p.Value)
		}
		seen[p.Value] = true
		switch p.Label {
		case "http":
			if p.Value < 30001 || p.Value > 30003 || p.To != 8080 {
				t.Errorf("http = %+v, want a free port in 30001-30003 to 8080", p)
			}
		case "grpc":
			if p.Value < 30001 || p.Value > 30003 || p.To != p.Value {
				t.Errorf("grpc = %+v, want a free port in 30001-30003 to itself", p)
			}
		}
	}
	if len(got.ports) != 4 || len(got.networks) != 1 || got.networks[0].IP != "10.1.2.3" ||
		len(got.networks[0].DynamicPorts) != 2 || got.networks[0].DynamicPorts[0].Value == 0 {
		t.Errorf("assignment = %+v", got)
	}

	// The same seed gives the same ports.
	again, _ := assignPorts(tg, node, map[int]int{30000: 1}, rand.New(rand.NewPCG(1, 2)))
	for i := range got.ports {
		if got.ports[i] != again.ports[i] {
			t.Errorf("not deterministic: %+v then %+v", got.ports[i], again.ports[i])
		}
	}

	if _, dim := assignPorts(tg, node, map[int]int{9100: 1}, rng); dim != "network: reserved port collision 9100" {
		t.Errorf("collision: dimension %q", dim)
	}
	if _, dim := assignPorts(tg, node, map[int]int{30000: 1, 30001: 1, 30002: 1}, rng); dim != dimensionDynamicPorts {
		t.Errorf("full range: dimension %q", dim)
	}
}
