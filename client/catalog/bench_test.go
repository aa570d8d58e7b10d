package catalog

import (
	"context"
	"encoding/json"
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

// BenchmarkHealthyLookup measures Healthy for one service of 3 instances
// in a catalog of 10,000 instances (100 nodes × 100, across 3,334
// services), from as many goroutines as GOMAXPROCS, as the DNS server and
// the proxy call it:
//
//	go test -run '^$' -bench HealthyLookup ./client/catalog
func BenchmarkHealthyLookup(b *testing.B) {
	c, err := New(Config{NodeID: "self", Datacenter: "dc1"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fillCatalog(b, c, 100, 100)
	if got := len(c.Healthy("svc-7", "", "")); got != 3 {
		b.Fatalf("svc-7 has %d healthy instances, want 3", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if len(c.Healthy("svc-7", "", "")) != 3 {
				b.Error("lost an instance")
				return
			}
		}
	})
}

// fillCatalog gossips nodes × perNode passing instances into c, three to a
// service, each from its own node.
func fillCatalog(b *testing.B, c *Catalog, nodes, perNode int) {
	b.Helper()
	d := c.Delegate()
	for n := range nodes {
		origin := fmt.Sprintf("node-%d", n)
		for i := range perNode {
			k := n*perNode + i
			id := fmt.Sprintf("inst-%d", k)
			reg := &structs.ServiceRegistration{ID: id, ServiceName: fmt.Sprintf("svc-%d", k/3), NodeID: origin,
				Datacenter: "dc1", Address: "10.0.0.1", Port: 1000 + i, Health: structs.HealthPassing}
			msg, err := json.Marshal(update{Origin: origin, Member: origin, Entry: wireEntry{ID: id, Version: 1, Reg: reg}})
			if err != nil {
				b.Fatal(err)
			}
			d.NotifyMsg(append([]byte{MsgUpdate}, msg...))
		}
	}
}

// BenchmarkNotifyMsgDuplicate measures what a member spends on a copy of
// an update it already holds, the common case: every member receives each
// change about 2 × DefaultRetransmitMult times (see DefaultRetransmitMult)
// and applies it once.
//
//	go test -run '^$' -bench NotifyMsgDuplicate -benchmem ./client/catalog
func BenchmarkNotifyMsgDuplicate(b *testing.B) {
	c, err := New(Config{NodeID: "self", Datacenter: "dc1"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fillCatalog(b, c, 30, 10)
	reg := &structs.ServiceRegistration{ID: "inst-7", ServiceName: "svc-2", NodeID: "node-0", Namespace: "default",
		JobID: "web", AllocID: "0b4bd3c4-6c47-4d5e-a7c3-5f2a43a4c2d1", Datacenter: "dc1", Address: "10.0.0.1", Port: 1007,
		Tags: []string{"v1", "http"}, Health: structs.HealthCritical,
		Checks: []structs.ServiceCheckStatus{{Name: "http", Status: structs.CheckCritical}}}
	msg, err := json.Marshal(update{Origin: "node-0", Member: "node-0", Entry: wireEntry{ID: "inst-7", Version: 2, Reg: reg}})
	if err != nil {
		b.Fatal(err)
	}
	msg = append([]byte{MsgUpdate}, msg...)
	d := c.Delegate()
	d.NotifyMsg(msg)
	c.queue.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d.NotifyMsg(msg)
	}
	b.ReportMetric(float64(len(msg)), "msg-bytes")
	if q := c.queue.NumQueued(); q != 0 {
		b.Fatalf("a duplicate was queued again: %d queued", q)
	}
}
