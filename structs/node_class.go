package structs

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

// uniquePrefix marks attributes and metadata that identify one node (its
// address, its hostname, ...). They are left out of the computed class, so
// nodes that differ only in them share a class.
const uniquePrefix = "unique."

// ComputeClass hashes what the scheduler's feasibility checks read from a
// node, except what is unique to it: datacenter, pool, class, non-unique
// attributes and metadata, and drivers' health. Nodes with the same
// computed class pass or fail the same constraints, so the scheduler checks
// one node per class and reuses the answer. The result is stable across
// processes (map order does not enter it).
func (n *Node) ComputeClass() string {
	h := fnv.New64a()
	write := func(s string) {
		var l [8]byte
		binary.LittleEndian.PutUint64(l[:], uint64(len(s)))
		h.Write(l[:])
		h.Write([]byte(s))
	}
	write(n.Datacenter)
	write(n.NodePool)
	write(n.NodeClass)
	writeMap := func(tag string, m map[string]string) {
		write(tag)
		keys := make([]string, 0, len(m))
		for k := range m {
			if !strings.HasPrefix(k, uniquePrefix) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			write(k)
			write(m[k])
		}
	}
	writeMap("attr", n.Attributes)
	writeMap("meta", n.Meta)
	write("drivers")
	names := make([]string, 0, len(n.Drivers))
	for name := range n.Drivers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		d := n.Drivers[name]
		write(name)
		write(strconv.FormatBool(d != nil && d.Detected && d.Healthy))
	}
	return "v1:" + strconv.FormatUint(h.Sum64(), 10)
}
