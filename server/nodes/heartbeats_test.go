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
