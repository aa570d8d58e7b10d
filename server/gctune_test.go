package server

import "testing"

func TestGCPercentFollowsTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		live uint64
		want int
	}{
		{0, smallHeapGCPercent},
		{10 * mib, smallHeapGCPercent},
		// The budget holds the heap: live × (1 + target/100) ≤ 256 MiB.
		{64 * mib, 300},
		{70 * mib, 250},
		// Past a third of the budget, the floor.
		{86 * mib, serverGCPercent},
		{4096 * mib, serverGCPercent},
	}
	for _, c := range cases {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("live heap %d MiB: target %d, want %d", c.live/mib, got, c.want)
		}
		if got := gcPercentFor(c.live); c.live > 0 && got > serverGCPercent && float64(c.live)*(1+float64(got)/100) > gcHeapBudget {
			t.Errorf("live heap %d MiB: target %d lets the heap pass the budget", c.live/mib, got)
		}
	}
}
