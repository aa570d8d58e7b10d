package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/drover-project/drover/client/catalog"
	"github.com/drover-project/drover/server/membership"
	"github.com/drover-project/drover/structs"
)

// benchGossip starts o.members catalogs, each carried by its own
// membership pool (memberlist's LAN settings, as client agents run it) on
// 127.0.0.1, registers one instance on the first, then flips its health
// o.flips times and times each flip until every catalog shows it.
func benchGossip(o options, progress io.Writer) ([]row, error) {
	fmt.Fprintf(progress, "gossip: starting %d members...\n", o.members)
	type member struct {
		cat  *catalog.Catalog
		pool *membership.Pool
	}
	members := make([]member, 0, o.members)
	defer func() {
		for _, m := range members {
			_ = m.pool.Shutdown()
			m.cat.Close()
		}
	}()
	for i := range o.members {
		name := fmt.Sprintf("node-%02d", i)
		cat, err := catalog.New(catalog.Config{NodeID: name, Datacenter: "dc1"})
		if err != nil {
			return nil, err
		}
		pool, err := membership.New(membership.Config{
			Name:     name,
			BindAddr: "127.0.0.1",
			Tags: membership.ClientTags(membership.Client{
				Region: "global", Datacenter: "dc1", NodeID: name, NodeName: name, Build: "bench",
			}),
			Delegates: &membership.Delegates{Delegate: cat.Delegate(), Events: cat.EventDelegate()},
		})
		if err != nil {
			cat.Close()
			return nil, err
		}
		members = append(members, member{cat: cat, pool: pool})
		if i > 0 {
			// Join a random earlier member, as retry_join lists would spread them.
			if _, err := pool.Join([]string{members[rand.IntN(i)].pool.Addr()}); err != nil {
				return nil, err
			}
		}
	}
	cats := make([]*catalog.Catalog, len(members))
	for i, m := range members {
		cats[i] = m.cat
	}
	// Every member knows every other before the clock starts.
	deadline := time.Now().Add(time.Minute)
	for _, m := range members {
		for len(m.pool.Members()) < o.members {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the pool did not converge to %d members within a minute", o.members)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	origin := cats[0]
	if err := origin.Register(&structs.ServiceRegistration{ID: "api-1", ServiceName: "api", Address: "10.0.0.1", Port: 8080}); err != nil {
		return nil, err
	}
	if err := waitEverywhere(cats, true, time.Minute); err != nil {
		return nil, fmt.Errorf("registration: %w", err)
	}

	fmt.Fprintf(progress, "gossip: %d health changes...\n", o.flips)
	delays := make([]time.Duration, 0, o.flips)
	healthy := true
	for range o.flips {
		// Changes happen at any point of a gossip round, not in step with it.
		time.Sleep(time.Duration(rand.Int64N(int64(300 * time.Millisecond))))
		healthy = !healthy
		start := time.Now()
		if err := origin.SetHealth("api-1", healthy, nil); err != nil {
			return nil, err
		}
		if err := waitEverywhere(cats, healthy, 30*time.Second); err != nil {
			return nil, err
		}
		delays = append(delays, time.Since(start))
	}
	slices.Sort(delays)
	p99 := percentile(delays, 99)
	figure := fmt.Sprintf("gossip: health change on every node (%d members, %d changes)", o.members, o.flips)
	return []row{
		{figure + " p50", ms(percentile(delays, 50)), "", ""},
		{figure + " p99", ms(p99), "≤ 2000 ms", verdict(p99 <= 2*time.Second)},
		{figure + " max", ms(delays[len(delays)-1]), "", ""},
	}, nil
}

// waitEverywhere waits until every catalog sees api-1 healthy (or not).
func waitEverywhere(cats []*catalog.Catalog, healthy bool, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var wg sync.WaitGroup
	late := make(chan int, len(cats))
	for i, c := range cats {
		wg.Go(func() {
			for {
				changed := c.Watch()
				if (len(c.Healthy("api", "", "")) == 1) == healthy {
					return
				}
				select {
				case <-changed:
				case <-ctx.Done():
					late <- i
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case i := <-late:
		return fmt.Errorf("member %d did not see the change within %s", i, limit)
	default:
		return nil
	}
}
