package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/client/dns"
	"github.com/drover-project/drover/structs"
)

// benchDNS serves a catalog of o.dnsServices services (3 healthy
// instances each, and one unhealthy that must not be answered) and sends
// A queries for random services over UDP from o.dnsClients clients, each
// waiting for its answer before the next query, for o.dnsDuration.
func benchDNS(o options, progress io.Writer) ([]row, error) {
	cat, err := catalog.New(catalog.Config{NodeID: "node-0", Datacenter: "dc1"})
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	names := make([]string, o.dnsServices)
	for s := range o.dnsServices {
		svc := fmt.Sprintf("svc-%03d", s)
		names[s] = svc + ".service.drover."
		for i := range 4 {
			err := cat.Register(&structs.ServiceRegistration{
				ID: fmt.Sprintf("%s-%d", svc, i), ServiceName: svc, Tags: []string{"v1"},
				Address: fmt.Sprintf("10.%d.%d.%d", s/250, s%250, i+1), Port: 8080,
			})
			if err != nil {
				return nil, err
			}
		}
		if err := cat.SetHealth(fmt.Sprintf("%s-3", svc), false, nil); err != nil {
			return nil, err
		}
	}
	srv, err := dns.New(dns.Config{Catalog: cat, Addrs: []string{"127.0.0.1:0"}})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	addr := srv.Addrs()[0]

	fmt.Fprintf(progress, "dns: %d clients for %s against %s...\n", o.dnsClients, o.dnsDuration, addr)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		latencies []time.Duration
		failures  atomic.Int64
		firstErr  atomic.Value
	)
	stop := time.Now().Add(o.dnsDuration)
	start := time.Now()
	for range o.dnsClients {
		wg.Go(func() {
			client := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
			conn, err := client.Dial(addr)
			if err != nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			defer conn.Close()
			own := make([]time.Duration, 0, 1<<16)
			m := new(mdns.Msg)
			for time.Now().Before(stop) {
				m.SetQuestion(names[rand.IntN(len(names))], mdns.TypeA)
				t0 := time.Now()
				resp, _, err := client.ExchangeWithConn(m, conn)
				if err == nil && len(resp.Answer) != 3 {
					err = fmt.Errorf("%s: %d answers, want 3", m.Question[0].Name, len(resp.Answer))
				}
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				own = append(own, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, own...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failures.Load(); n > 0 {
		return nil, fmt.Errorf("%d queries failed, the first: %v", n, firstErr.Load())
	}
	slices.Sort(latencies)
	figure := fmt.Sprintf("dns: A queries on one client (%d services, %d UDP clients)", o.dnsServices, o.dnsClients)
	return []row{
		{figure + " per second", fmt.Sprintf("%.0f /s", float64(len(latencies))/elapsed.Seconds()), "", ""},
		{figure + " p50", us(percentile(latencies, 50)), "", ""},
		{figure + " p99", us(percentile(latencies, 99)), "", ""},
	}, nil
}
