package command

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/cli"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/internal/snapshotfile"
)

func init() {
	Register("operator snapshot", func(m Meta) cli.Command { return &OperatorSnapshotCommand{} })
	Register("operator snapshot save", func(m Meta) cli.Command { return &OperatorSnapshotSaveCommand{Meta: m} })
	Register("operator snapshot restore", func(m Meta) cli.Command { return &OperatorSnapshotRestoreCommand{Meta: m} })
	Register("operator snapshot inspect", func(m Meta) cli.Command { return &OperatorSnapshotInspectCommand{Meta: m} })
}

// OperatorSnapshotCommand is "drover operator snapshot".
type OperatorSnapshotCommand struct{}

func (c *OperatorSnapshotCommand) Synopsis() string {
	return "Save, restore and inspect snapshots of the cluster state"
}
func (c *OperatorSnapshotCommand) Help() string {
	return helpText(`
Usage: drover operator snapshot <subcommand> [options] <file>

  Save the cluster state (jobs, nodes, allocations, evaluations) to a file,
  restore it, or look inside one.

    $ drover operator snapshot save backup.snap
    $ drover operator snapshot inspect backup.snap
    $ drover operator snapshot restore backup.snap`, false)
}
func (c *OperatorSnapshotCommand) Run([]string) int { return cli.RunResultHelp }

// OperatorSnapshotSaveCommand is "drover operator snapshot save".
type OperatorSnapshotSaveCommand struct{ Meta }

func (c *OperatorSnapshotSaveCommand) Synopsis() string {
	return "Save a snapshot of the cluster state"
}
func (c *OperatorSnapshotSaveCommand) Help() string {
	return helpText(`
Usage: drover operator snapshot save [options] <file>

  Save an atomic, point-in-time snapshot of the cluster state, taken on
  the leader, to <file>. The file is written only once the whole snapshot
  arrived and its checksum matched, so an interrupted save leaves no file.

Save Options:

  -stale
    Take the snapshot from the contacted server's own state, even without
    a leader (it may miss the latest writes).`, true)
}

func (c *OperatorSnapshotSaveCommand) Run(args []string) int {
	fs := c.flagSet("operator snapshot save")
	var stale bool
	fs.BoolVar(&stale, "stale", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("operator snapshot save", "This command takes one argument: <file>")
	}
	path := fs.Arg(0)
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	body, err := client.Operator().Snapshot((&api.QueryOptions{AllowStale: stale}).WithContext(c.ctx()))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error saving snapshot: %v", err))
		return exitError
	}
	defer body.Close()
	meta, err := writeVerified(path, body)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error saving snapshot: %v", err))
		return exitError
	}
	c.UI.Output(fmt.Sprintf("State file written to %s (index %d)", path, meta.Index))
	return exitOK
}

// writeVerified writes the archive to a temporary file beside path, checks
// it reads back whole, and only then renames it to path.
func writeVerified(path string, body io.Reader) (*snapshotfile.Meta, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	defer tmp.Close()
	if _, err := io.Copy(tmp, body); err != nil {
		return nil, fmt.Errorf("receiving the snapshot: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	r, err := snapshotfile.Open(tmp)
	if err != nil {
		return nil, err
	}
	if err := r.CopyState(io.Discard); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return &r.Meta, nil
}

// OperatorSnapshotRestoreCommand is "drover operator snapshot restore".
type OperatorSnapshotRestoreCommand struct{ Meta }

func (c *OperatorSnapshotRestoreCommand) Synopsis() string {
	return "Restore a snapshot of the cluster state"
}
func (c *OperatorSnapshotRestoreCommand) Help() string {
	return helpText(`
Usage: drover operator snapshot restore [options] <file>

  Replace the whole cluster state with the snapshot in <file>. The leader
  installs it and sends it to every server. Everything written since the
  snapshot was saved is lost: this is for disaster recovery, typically into
  a fresh cluster.`, true)
}

func (c *OperatorSnapshotRestoreCommand) Run(args []string) int {
	fs := c.flagSet("operator snapshot restore")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("operator snapshot restore", "This command takes one argument: <file>")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error opening snapshot file: %v", err))
		return exitError
	}
	defer f.Close()
	// Refuse a file that is not a snapshot before sending it anywhere.
	if _, err := snapshotfile.Open(f); err != nil {
		c.UI.Error(fmt.Sprintf("Error reading snapshot file %s: %v", fs.Arg(0), err))
		return exitError
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		c.UI.Error(fmt.Sprintf("Error reading snapshot file: %v", err))
		return exitError
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	if err := client.Operator().SnapshotRestore(f, (&api.QueryOptions{}).WithContext(c.ctx())); err != nil {
		c.UI.Error(fmt.Sprintf("Error restoring snapshot: %v", err))
		return exitError
	}
	c.UI.Output("Snapshot restored")
	return exitOK
}

// OperatorSnapshotInspectCommand is "drover operator snapshot inspect".
type OperatorSnapshotInspectCommand struct{ Meta }

func (c *OperatorSnapshotInspectCommand) Synopsis() string { return "Show what a snapshot file holds" }
func (c *OperatorSnapshotInspectCommand) Help() string {
	return helpText(`
Usage: drover operator snapshot inspect <file>

  Show a snapshot file's metadata (ID, Raft index and term, size, when it
  was taken) and its records per table. Reads only the local file: no agent
  is contacted. The file's checksum is verified.`, false)
}

func (c *OperatorSnapshotInspectCommand) Run(args []string) int {
	fs := c.flagSet("operator snapshot inspect")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() != 1 {
		return c.usageError("operator snapshot inspect", "This command takes one argument: <file>")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error opening snapshot file: %v", err))
		return exitError
	}
	defer f.Close()
	r, err := snapshotfile.Open(f)
	if err == nil {
		err = r.CopyState(io.Discard)
	}
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading snapshot file %s: %v", fs.Arg(0), err))
		return exitError
	}
	m := r.Meta
	c.UI.Output(formatKV([]string{
		"Created|" + m.CreatedAt.Local().Format(time.RFC3339),
		"ID|" + m.ID,
		"Size|" + humanBytes(m.Size),
		"Index|" + strconv.FormatUint(m.Index, 10),
		"Term|" + strconv.FormatUint(m.Term, 10),
		"Version|" + strconv.Itoa(m.Version),
	}))
	c.UI.Output("")
	c.UI.Output(formatTable(tableRows(m.Tables)))
	return exitOK
}

// tableRows lists the tables, largest first, and their total.
func tableRows(tables map[string]snapshotfile.TableStats) [][]string {
	type row struct {
		name string
		snapshotfile.TableStats
	}
	var rs []row
	var total snapshotfile.TableStats
	for name, st := range tables {
		rs = append(rs, row{name, st})
		total.Count += st.Count
		total.Size += st.Size
	}
	slices.SortFunc(rs, func(a, b row) int { return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.name, b.name)) })
	out := [][]string{{"Type", "Count", "Size"}}
	for _, r := range rs {
		out = append(out, []string{r.name, strconv.Itoa(r.Count), humanBytes(r.Size)})
	}
	return append(out, []string{"Total", strconv.Itoa(total.Count), humanBytes(total.Size)})
}

// humanBytes writes n as B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 2 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + []string{"KiB", "MiB", "GiB"}[i]
}
