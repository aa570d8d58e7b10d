package scheduler

import (
	"fmt"
	"maps"
	"slices"

	"github.com/drover-project/drover/structs"
)

// missingHostVolume says which host volume the group asks for that the node
// does not have, or "". A read-write request cannot be met by a volume the
// client declared read-only. Host volumes are checked per node: two nodes
// of one computed class may declare different directories.
func missingHostVolume(volumes map[string]*structs.VolumeRequest, n *structs.Node) string {
	for _, name := range slices.Sorted(maps.Keys(volumes)) {
		req := volumes[name]
		if req == nil || req.Type != structs.VolumeTypeHost {
			continue
		}
		hv := n.HostVolumes[req.Source]
		if hv == nil {
			return fmt.Sprintf("missing compatible host volumes (%s)", req.Source)
		}
		if hv.ReadOnly && !req.ReadOnly {
			return fmt.Sprintf("missing compatible host volumes (%s is read-only)", req.Source)
		}
	}
	return ""
}
