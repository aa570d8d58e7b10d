package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"

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
	var heard []*heardVersions
	defer func() {
		for _, m := range members {
			_ = m.pool.Shutdown()
			m.cat.Close()
		}
	}()
	for i := range o.members {
		name := fmt.Sprintf("node-%02d", i)
		cat, err := catalog.New(catalog.Config{NodeID: name, Datacenter: "dc1", RetransmitMult: o.retransmitMult})
		if err != nil {
			return nil, err
		}
		h := &heardVersions{Delegate: cat.Delegate(), seen: map[uint64]bool{}}
		heard = append(heard, h)
		pool, err := membership.New(membership.Config{
			Name:     name,
			BindAddr: "127.0.0.1",
			Tags: membership.ClientTags(membership.Client{
				Region: "global", Datacenter: "dc1", NodeID: name, NodeName: name, Build: "bench",
			}),
			Delegates: &membership.Delegates{Delegate: h, Events: cat.EventDelegate()},
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
	for _, r := range heard {
		r.reset()
	}
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
	// Copies of the last changes may still be on their way.
	time.Sleep(3 * time.Second)
	missed := missedChanges(heard[1:], o.flips)
	slices.Sort(delays)
	p99 := percentile(delays, 99)
	figure := fmt.Sprintf("gossip: health change on every node (%d members, %d changes)", o.members, o.flips)
	return []row{
		{figure + " p50", ms(percentile(delays, 50)), "", ""},
		{figure + " p99", ms(p99), "≤ 2000 ms", verdict(p99 <= 2*time.Second)},
		{figure + " max", ms(delays[len(delays)-1]), "", ""},
		// A change every broadcast missed reaches a member only by
		// memberlist's full-state exchange (every 30 s).
		{fmt.Sprintf("gossip: (member, change) pairs no broadcast reached (of %d)", o.flips*(o.members-1)), fmt.Sprint(missed), "0", verdict(missed == 0)},
	}, nil
}

// heardVersions is a member's catalog delegate, counting the versions of
// the measured instance that broadcasts brought it (a copy that a
// full-state exchange brought first still counts: it is the broadcasts'
// reach that is measured). It reads the catalog's wire form, a JSON
// update after one byte.
type heardVersions struct {
	memberlist.Delegate
	mu   sync.Mutex
	seen map[uint64]bool
}

func (h *heardVersions) NotifyMsg(msg []byte) {
	var u struct{ Entry struct{ Version uint64 } }
	if len(msg) > 0 && msg[0] == catalog.MsgUpdate && json.Unmarshal(msg[1:], &u) == nil {
		h.mu.Lock()
		h.seen[u.Entry.Version] = true
		h.mu.Unlock()
	}
	h.Delegate.NotifyMsg(msg)
}

func (h *heardVersions) reset() {
	h.mu.Lock()
	h.seen = map[uint64]bool{}
	h.mu.Unlock()
}

// missedChanges counts the (member, change) pairs no broadcast reached:
// the changes are the newest flips versions any member heard (a late copy
// of the registration may be heard too).
func missedChanges(heard []*heardVersions, flips int) int {
	all := map[uint64]bool{}
	for _, h := range heard {
		h.mu.Lock()
		for v := range h.seen {
			all[v] = true
		}
		h.mu.Unlock()
	}
	versions := slices.Sorted(maps.Keys(all))
	versions = versions[max(len(versions)-flips, 0):]
	missed := (flips - len(versions)) * len(heard)
	for _, h := range heard {
		h.mu.Lock()
		for _, v := range versions {
			if !h.seen[v] {
				missed++
			}
		}
		h.mu.Unlock()
	}
	return missed
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
