package nodes

import (
	"testing"
	"time"

	"github.com/drover-project/drover/internal/logging"
)

func TestHeartbeatExpiresSilentNodeOnly(t *testing.T) {
	expired := make(chan string, 4)
	h := NewHeartbeats(20*time.Millisecond, func(id string) { expired <- id }, logging.Discard())
	h.Enable([]string{"a", "b"})
	deadline := time.After(5 * time.Second)
	// Keep "b" alive while "a" goes silent.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case id := <-expired:
			if id != "a" {
				t.Fatalf("node %s expired while beating", id)
			}
			if h.Tracked() != 1 {
				t.Fatalf("tracked %d, want 1", h.Tracked())
			}
			return
		case <-tick.C:
			h.Reset("b")
		case <-deadline:
			t.Fatal("silent node never expired")
		}
	}
}

func TestHeartbeatDisabledNeverExpires(t *testing.T) {
	h := NewHeartbeats(time.Millisecond, func(id string) { t.Errorf("expired %s", id) }, logging.Discard())
	if ttl := h.Reset("a"); ttl != time.Millisecond {
		t.Fatalf("ttl %v", ttl)
	}
	if h.Tracked() != 0 {
		t.Fatal("a disabled tracker must not start timers")
	}
	h.Enable([]string{"a"})
	h.Disable()
	if h.Tracked() != 0 {
		t.Fatal("disable must stop timers")
	}
}

func TestHeartbeatTTLScalesWithClusterSize(t *testing.T) {
	p := HeartbeatPolicy{MinTTL: 10 * time.Second, MaxPerSecond: 50}
	for _, c := range []struct {
		nodes int
		want  time.Duration
	}{{0, 10 * time.Second}, {100, 10 * time.Second}, {500, 10 * time.Second}, {1000, 20 * time.Second}, {5000, 100 * time.Second}} {
		if got := p.TTL(c.nodes); got != c.want {
			t.Errorf("TTL(%d) = %v, want %v", c.nodes, got, c.want)
		}
	}
}

func TestHeartbeatJitterStaysSmall(t *testing.T) {
	h := NewHeartbeatsWithPolicy(HeartbeatPolicy{MinTTL: 10 * time.Second}, func(string) {}, logging.Discard())
	for range 100 {
		ttl := h.Reset("a")
		if ttl < 10*time.Second || ttl >= 10*time.Second+500*time.Millisecond {
			t.Fatalf("ttl %v outside [10s, 10.5s)", ttl)
		}
	}
}
