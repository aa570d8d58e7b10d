package membership

import (
	"sync"
	"testing"

	"github.com/hashicorp/memberlist"
)

// recorder is a component riding on the pool: it keeps the user messages
// and events it gets, and hands out its broadcasts.
type recorder struct {
	mu     sync.Mutex
	msgs   [][]byte
	joined []string
	out    [][]byte
}

func (r *recorder) NodeMeta(int) []byte { return nil }
func (r *recorder) NotifyMsg(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, append([]byte(nil), b...))
}
func (r *recorder) GetBroadcasts(overhead, limit int) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out // every time: a real component retransmits too
}
func (r *recorder) LocalState(bool) []byte        { return nil }
func (r *recorder) MergeRemoteState([]byte, bool) {}
func (r *recorder) NotifyLeave(*memberlist.Node)  {}
func (r *recorder) NotifyUpdate(*memberlist.Node) {}
func (r *recorder) NotifyJoin(n *memberlist.Node) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.joined = append(r.joined, n.Name)
}

func (r *recorder) got() (msgs int, joined int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs), len(r.joined)
}

// TestClientMemberCarriesDelegates joins a client member, carrying a
// component, to a server's pool: the server lists it with its client tags,
// ParseServer ignores it (so bootstrap and autopilot do), and the
// component's broadcast reaches the other side's component, whose messages
// are told from the pool's by their first byte.
func TestClientMemberCarriesDelegates(t *testing.T) {
	srv := newPool(t, "s.global", "global")
	rs := &recorder{}
	srvDelegated, err := New(Config{
		Name: "s2.global", BindAddr: "127.0.0.1", Local: true,
		Tags:      mustServerTags(t, "s2"),
		Delegates: &Delegates{Delegate: rs, Events: rs},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srvDelegated.Shutdown() })

	rc := &recorder{out: [][]byte{{0xC1, 'h', 'i'}}}
	cl, err := New(Config{
		Name: "node-1", BindAddr: "127.0.0.1", Local: true,
		Tags:      ClientTags(Client{Region: "global", Datacenter: "dc1", NodeID: "node-1", NodeName: "c1", Build: "test"}),
		Delegates: &Delegates{Delegate: rc, Events: rc},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Shutdown() })

	if _, err := cl.Join([]string{srv.Addr(), srvDelegated.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the client listed by the server", func() bool { return status(srv, "node-1") == StatusAlive })
	for _, m := range srv.Members() {
		if m.Name != "node-1" {
			continue
		}
		if _, ok := ParseServer(m.Tags); ok {
			t.Error("a client parses as a server")
		}
		if c, ok := ParseClient(m.Tags); !ok || c.NodeName != "c1" {
			t.Errorf("client tags %v", m.Tags)
		}
	}
	waitFor(t, "the component's broadcast delivered", func() bool {
		msgs, _ := rs.got()
		return msgs > 0
	})
	rs.mu.Lock()
	if got := rs.msgs[0]; got[0] != 0xC1 || string(got[1:]) != "hi" {
		t.Errorf("component got %q", got)
	}
	rs.mu.Unlock()
	if _, joined := rc.got(); joined < 3 {
		t.Errorf("the client's component heard %d joins, want 3", joined)
	}
}

func mustServerTags(t *testing.T, id string) map[string]string {
	t.Helper()
	tags, err := ServerTags(Server{Region: "global", Datacenter: "dc1", ID: id, RPCAddr: "127.0.0.1:4747", Expect: 3, Build: "test", RaftState: RaftStateNone})
	if err != nil {
		t.Fatal(err)
	}
	return tags
}
