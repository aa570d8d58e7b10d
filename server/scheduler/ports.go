package scheduler

import (
	"fmt"
	"math/rand/v2"

	"github.com/drover-project/drover/structs"
)

// dimensionDynamicPorts is the exhausted dimension when a node has no free
// port left in its dynamic range.
const dimensionDynamicPorts = "network: dynamic port selection failed"

// randomPortTries is how many random draws are tried before scanning the
// dynamic range in order: draws are cheap and spread ports out, the scan
// is sure to find the last free one.
const randomPortTries = 20

// portAssignment is the group's network as placed on one node.
type portAssignment struct {
	networks []*structs.NetworkResource
	ports    []structs.AllocatedPortMapping
}

// assignPorts gives the group's ports host ports on the node: static ports
// as asked, dynamic ones drawn from the node's dynamic range. used holds
// the host ports already taken on the node. When a port cannot be had, it
// returns the exhausted dimension instead.
func assignPorts(tg *structs.TaskGroup, node *structs.Node, used map[int]int, rng *rand.Rand) (portAssignment, string) {
	var out portAssignment
	if len(tg.Networks) == 0 {
		return out, ""
	}
	hostIP := node.HostIP()
	taken := func(p int) bool { return used[p] > 0 }
	mine := map[int]bool{}

	// Static ports first, so no dynamic port takes one the group needs.
	for _, nw := range tg.Networks {
		for _, p := range nw.ReservedPorts {
			if p.Value == 0 {
				continue // no value to reserve: treated as dynamic below
			}
			if taken(p.Value) || mine[p.Value] {
				return portAssignment{}, fmt.Sprintf("network: reserved port collision %d", p.Value)
			}
			mine[p.Value] = true
		}
	}

	lo, hi := dynamicRange(node)
	for _, nw := range tg.Networks {
		placed := &structs.NetworkResource{Mode: nw.Mode, Device: nw.Device, IP: hostIP, MBits: nw.MBits}
		for _, p := range nw.ReservedPorts {
			if p.Value == 0 {
				v, ok := pickDynamicPort(lo, hi, taken, mine, rng)
				if !ok {
					return portAssignment{}, dimensionDynamicPorts
				}
				p.Value = v
			}
			p.To = containerPort(p)
			placed.ReservedPorts = append(placed.ReservedPorts, p)
			out.ports = append(out.ports, structs.AllocatedPortMapping{Label: p.Label, Value: p.Value, To: p.To, HostIP: hostIP})
		}
		for _, p := range nw.DynamicPorts {
			v, ok := pickDynamicPort(lo, hi, taken, mine, rng)
			if !ok {
				return portAssignment{}, dimensionDynamicPorts
			}
			p.Value = v
			p.To = containerPort(p)
			placed.DynamicPorts = append(placed.DynamicPorts, p)
			out.ports = append(out.ports, structs.AllocatedPortMapping{Label: p.Label, Value: p.Value, To: p.To, HostIP: hostIP})
		}
		out.networks = append(out.networks, placed)
	}
	return out, ""
}

// containerPort is where the port leads inside the group: `to`, or the
// host port itself when `to` is unset (0) or -1.
func containerPort(p structs.Port) int {
	if p.To <= 0 {
		return p.Value
	}
	return p.To
}

func dynamicRange(n *structs.Node) (lo, hi int) {
	lo, hi = structs.DefaultMinDynamicPort, structs.DefaultMaxDynamicPort
	if r := n.NodeResources; r != nil {
		if r.MinDynamicPort > 0 {
			lo = r.MinDynamicPort
		}
		if r.MaxDynamicPort > 0 {
			hi = r.MaxDynamicPort
		}
	}
	return lo, hi
}

// pickDynamicPort takes a free port in [lo, hi] and records it in mine.
func pickDynamicPort(lo, hi int, taken func(int) bool, mine map[int]bool, rng *rand.Rand) (int, bool) {
	if hi < lo {
		return 0, false
	}
	free := func(p int) bool { return !taken(p) && !mine[p] }
	span := hi - lo + 1
	for range randomPortTries {
		if p := lo + rng.IntN(span); free(p) {
			mine[p] = true
			return p, true
		}
	}
	start := rng.IntN(span)
	for i := range span {
		if p := lo + (start+i)%span; free(p) {
			mine[p] = true
			return p, true
		}
	}
	return 0, false
}
