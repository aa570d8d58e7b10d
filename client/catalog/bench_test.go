package catalog

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/drover-project/drover/structs"
)

// BenchmarkHealthPropagation measures the time for a health change made on
// one node to reach every node of a pool of 30 catalogs over real
// memberlists on 127.0.0.1, with memberlist's LAN settings (a gossip round
// every 200 ms). Each iteration flips one instance's health and waits until
// every node sees it; the p50 and p99 of that time are reported (target:
// p99 ≤ 2 s).
//
//	go test -run '^$' -bench HealthPropagation -benchtime 40x ./client/catalog
func BenchmarkHealthPropagation(b *testing.B) {
	const members = 30
	nodes := make([]*Catalog, members)
	var first string
	for i := range members {
		cat, err := New(Config{NodeID: fmt.Sprintf("node-%d", i), Datacenter: "dc1"})
		if err != nil {
			b.Fatal(err)
		}
		defer cat.Close()
		conf := memberlist.DefaultLANConfig()
		conf.Name = fmt.Sprintf("node-%d", i)
		conf.BindAddr = "127.0.0.1"
		conf.BindPort = 0
		conf.LogOutput = io.Discard
		conf.Delegate = cat.Delegate()
		conf.Events = cat.EventDelegate()
		ml, err := memberlist.Create(conf)
		if err != nil {
			b.Fatal(err)
		}
		defer ml.Shutdown()
		if i == 0 {
			first = fmt.Sprintf("127.0.0.1:%d", ml.LocalNode().Port)
		} else if _, err := ml.Join([]string{first}); err != nil {
			b.Fatal(err)
		}
		nodes[i] = cat
	}
	origin := nodes[0]
	if err := origin.Register(&structs.ServiceRegistration{ID: "api-1", ServiceName: "api", Address: "10.0.0.1", Port: 80}); err != nil {
		b.Fatal(err)
	}
	waitAll(b, nodes, true, time.Minute)

	delays := make([]time.Duration, 0, b.N)
	healthy := true
	b.ResetTimer()
	for range b.N {
		healthy = !healthy
		start := time.Now()
		if err := origin.SetHealth("api-1", healthy, nil); err != nil {
			b.Fatal(err)
		}
		waitAll(b, nodes, healthy, 30*time.Second)
		delays = append(delays, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(delays[min(len(delays)-1, len(delays)*99/100)].Milliseconds()), "p99-ms")
	b.ReportMetric(members, "members")
}

// waitAll waits until every node sees api-1 with the given health.
func waitAll(b *testing.B, nodes []*Catalog, healthy bool, limit time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var wg sync.WaitGroup
	failed := make(chan int, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				changed := n.Watch()
				if (len(n.Healthy("api", "", "")) == 1) == healthy {
					return
				}
				select {
				case <-changed:
				case <-ctx.Done():
					failed <- i
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case i := <-failed:
		b.Fatalf("node %d did not see the change within %s", i, limit)
	default:
	}
}
