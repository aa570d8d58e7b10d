package command

import (
	"fmt"
	"io"
	"strconv"

	"github.com/drover-project/drover/api"
	"github.com/drover-project/drover/structs"
)

// AllocFSCommand is "drover alloc fs": list a directory or print a file of
// an allocation's directory.
type AllocFSCommand struct{ Meta }

func (c *AllocFSCommand) Synopsis() string { return "Inspect the contents of an allocation directory" }

func (c *AllocFSCommand) Help() string {
	return helpText(`
Usage: drover alloc fs [options] <allocation> [path]

  List the directory, or print the file, at path (default "/") in the
  directory of the allocation with the given ID (or unique prefix of one).
  The directory holds alloc/ (shared by the tasks; alloc/logs has their
  output) and one directory per task with its local/ files. Paths cannot
  leave the allocation directory, and tasks' secrets/ are not shown.

FS Options:

  -stat
    Show what the path is (name, size, mode, time) instead of its contents.`, true)
}

func (c *AllocFSCommand) Run(args []string) int {
	fs := c.flagSet("alloc fs")
	stat := fs.Bool("stat", false, "")
	if !c.parseFlags(fs, args) {
		return exitError
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return c.usageError("alloc fs", "This command takes one or two arguments: <allocation> [path]")
	}
	path := "/"
	if fs.NArg() == 2 {
		path = fs.Arg(1)
	}
	client, err := c.client()
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error initializing client: %v", err))
		return exitError
	}
	alloc, ok := c.resolveAlloc(client, fs.Arg(0))
	if !ok {
		return exitError
	}
	fi, err := client.AllocFS().Stat(alloc.ID, path, nil)
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading %q: %v", path, err))
		return exitError
	}
	switch {
	case *stat:
		c.UI.Output(formatFiles([]*structs.AllocFileInfo{fi}))
	case fi.IsDir:
		files, err := client.AllocFS().List(alloc.ID, path, nil)
		if err != nil {
			c.UI.Error(fmt.Sprintf("Error listing %q: %v", path, err))
			return exitError
		}
		c.UI.Output(formatFiles(files))
	default:
		return c.cat(client, alloc.ID, path)
	}
	return exitOK
}

// cat copies the file to stdout as it is.
func (c *AllocFSCommand) cat(client *api.Client, allocID, path string) int {
	r, err := client.AllocFS().Cat(allocID, path, (&api.QueryOptions{}).WithContext(c.ctx()))
	if err != nil {
		c.UI.Error(fmt.Sprintf("Error reading %q: %v", path, err))
		return exitError
	}
	defer r.Close()
	if _, err := io.Copy(c.Stdout, r); err != nil {
		c.UI.Error(fmt.Sprintf("Error reading %q: %v", path, err))
		return exitError
	}
	return exitOK
}

// formatFiles tabulates files as Nomad's alloc fs does.
func formatFiles(files []*structs.AllocFileInfo) string {
	rows := [][]string{{"Mode", "Size", "Modified Time", "Name"}}
	for _, f := range files {
		name := f.Name
		if f.IsDir {
			name += "/"
		}
		rows = append(rows, []string{f.FileMode, strconv.FormatInt(f.Size, 10), formatTime(f.ModTime), name})
	}
	return formatTable(rows)
}
