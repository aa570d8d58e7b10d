package membership

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func newPool(t *testing.T, name, region string) *Pool {
	t.Helper()
	tags, err := ServerTags(Server{Region: region, Datacenter: "dc1", ID: name + "-id", RPCAddr: "127.0.0.1:4747", Expect: 3, Build: "test", RaftState: RaftStateNone})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{
		Name:     name,
		BindAddr: "127.0.0.1",
		BindPort: 0,
		Tags:     tags,
		Local:    true,
		Accept: func(name string, tags map[string]string) error {
			if tags[TagRegion] != region {
				return fmt.Errorf("member %s is in region %q", name, tags[TagRegion])
			}
			return nil
		},
		ReconnectInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown() })
	return p
}

// waitFor polls cond until it holds. The deadline is generous: with the
// local timings, failure detection in a pool of three takes a probe and a
// suspicion timeout of 3s to 18s (the 18s when the other live member's
// confirmation is late, as on a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func status(p *Pool, name string) Status {
	for _, m := range p.Members() {
		if m.Name == name {
			return m.Status
		}
	}
	return ""
}

func TestPoolFormsFromOneAddressAndTracksFailures(t *testing.T) {
	a := newPool(t, "a.global", "global")
	b := newPool(t, "b.global", "global")
	c := newPool(t, "c.global", "global")
	for _, p := range []*Pool{b, c} {
		if n, err := p.Join([]string{a.Addr()}); err != nil || n != 1 {
			t.Fatalf("join: %d %v", n, err)
		}
	}
	waitFor(t, "three alive members everywhere", func() bool {
		for _, p := range []*Pool{a, b, c} {
			for _, n := range []string{"a.global", "b.global", "c.global"} {
				if status(p, n) != StatusAlive {
					return false
				}
			}
		}
		return true
	})
	srv, ok := ParseServer(a.Members()[1].Tags)
	if !ok || srv.ID != "b.global-id" || srv.RPCAddr != "127.0.0.1:4747" || srv.Expect != 3 {
		t.Fatalf("tags of b as a sees them: %+v %v", srv, ok)
	}

	// Tag changes travel.
	tags := a.Members()[0].Tags
	tags[TagRaftState] = RaftStateExisting
	if err := a.SetTags(tags); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new tag on c", func() bool {
		return c.Members()[0].Tags[TagRaftState] == RaftStateExisting
	})

	// A force-leave of a live member is refused.
	if err := a.ForceLeave("c.global", false); !errors.Is(err, ErrMemberAlive) {
		t.Fatalf("force-leave of a live member: %v", err)
	}
	if err := a.ForceLeave("nobody", false); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("force-leave of an unknown member: %v", err)
	}

	// c dies without a word: failed, then forced to left everywhere.
	c.Shutdown()
	waitFor(t, "c to be failed", func() bool { return status(a, "c.global") == StatusFailed && status(b, "c.global") == StatusFailed })
	if err := a.ForceLeave("c.global", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c to be left on b too", func() bool { return status(b, "c.global") == StatusLeft })

	// b says goodbye: left, not failed.
	if err := b.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to be left", func() bool { return status(a, "b.global") == StatusLeft })
}

func TestPoolRefusesAnotherRegion(t *testing.T) {
	a := newPool(t, "a.global", "global")
	e := newPool(t, "e.europe", "europe")
	if _, err := e.Join([]string{a.Addr()}); err == nil {
		t.Fatal("a server of another region joined")
	}
	if status(a, "e.europe") != "" {
		t.Fatalf("a lists e: %+v", a.Members())
	}
}

func TestRetryJoinWaitsForTheFirstServer(t *testing.T) {
	a := newPool(t, "a.global", "global")
	// Nothing listens on this address: attempts fail until the limit.
	err := a.RetryJoin(context.Background(), []string{"127.0.0.1:1"}, 10*time.Millisecond, 3)
	if err == nil {
		t.Fatal("join of a closed port succeeded")
	}
	b := newPool(t, "b.global", "global")
	if err := a.RetryJoin(context.Background(), []string{b.Addr()}, 10*time.Millisecond, 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b on a", func() bool { return status(a, "b.global") == StatusAlive })
}

// A failed member that comes back (a healed partition, a restart on the same
// address) is alive again without anyone joining by hand.
func TestPoolReconnectsToFailedMember(t *testing.T) {
	a := newPool(t, "a.global", "global")
	b := newPool(t, "b.global", "global")
	if _, err := b.Join([]string{a.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b on a", func() bool { return status(a, "b.global") == StatusAlive })
	addr := b.Addr()
	b.Shutdown()
	waitFor(t, "b to be failed", func() bool { return status(a, "b.global") == StatusFailed })

	tags, _ := ServerTags(Server{Region: "global", ID: "b-id", RPCAddr: "127.0.0.1:4747"})
	var port int
	fmt.Sscanf(addr[len("127.0.0.1:"):], "%d", &port)
	b2, err := New(Config{Name: "b.global", BindAddr: "127.0.0.1", BindPort: port, Tags: tags, Local: true})
	if err != nil {
		t.Skipf("port %d taken again before the restart: %v", port, err)
	}
	defer b2.Shutdown()
	waitFor(t, "b to be alive again on a", func() bool { return status(a, "b.global") == StatusAlive })
}
