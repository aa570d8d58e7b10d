package agent

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfigClientGC(t *testing.T) {
	c := DefaultConfig()
	src := `
client {
  enabled = true
  gc_interval = "30s"
  gc_max_allocs = 10
  gc_disk_usage_threshold = 70
}
`
	if err := c.loadConfig("agent.hcl", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if c.Client.GC != (ClientGCConfig{Interval: 30 * time.Second, MaxAllocs: 10, DiskUsageThreshold: 70}) {
		t.Fatalf("gc = %+v", c.Client.GC)
	}
	for _, bad := range []string{`gc_interval = "soon"`, `gc_max_allocs = 0`, `gc_disk_usage_threshold = 120`} {
		err := DefaultConfig().loadConfig("agent.hcl", []byte("client {\n  "+bad+"\n}\n"))
		if err == nil || !strings.Contains(err.Error(), "client.gc_") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}
