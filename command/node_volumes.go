package command

import (
	"strconv"

	"github.com/drover-project/drover/structs"
)

// formatHostVolumes is the "Host Volumes" table of `node status NODE`,
// as Nomad prints it: the directories the client lets groups mount.
func formatHostVolumes(vols map[string]*structs.ClientHostVolumeConfig) string {
	rows := [][]string{{"Name", "ReadOnly", "Source"}}
	for _, name := range sortedKeys(vols) {
		v := vols[name]
		rows = append(rows, []string{name, strconv.FormatBool(v.ReadOnly), v.Path})
	}
	return formatTable(rows)
}
