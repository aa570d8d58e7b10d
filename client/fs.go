package client

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drover-project/drover/client/allocdir"
	"github.com/drover-project/drover/structs"
)

// The allocation file system (/v1/client/fs/ls, stat and cat): files under
// an allocation's directory, read through os.Root so that no path, however
// written and whatever symlinks it crosses, reaches outside it. Tasks'
// secrets directories are not served, as in Nomad.

// allocPath checks a path asked for under an allocation's directory and
// returns it relative to that directory ("." for the root).
func allocPath(path string) (string, error) {
	rel := strings.TrimLeft(filepath.FromSlash(path), string(filepath.Separator))
	if rel == "" {
		rel = "."
	}
	if !filepath.IsLocal(rel) {
		return "", structs.BadRequest(fmt.Errorf("path %q leaves the allocation directory", path))
	}
	rel = filepath.Clean(rel)
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) >= 2 && parts[1] == allocdir.SecretsDirName && parts[0] != allocdir.SharedDirName {
		return "", structs.BadRequest(fmt.Errorf("path %q: reading a task's secrets directory is not allowed", path))
	}
	return rel, nil
}

// openAllocRoot opens the allocation's directory as an os.Root.
func (c *Client) openAllocRoot(allocID string) (*os.Root, error) {
	dir, err := c.AllocDir(allocID)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening allocation directory: %w", err)
	}
	return root, nil
}

// fsError maps file errors to what the caller did wrong.
func fsError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return structs.NotFound(fmt.Errorf("path %q: no such file or directory", path))
	case err != nil && strings.Contains(err.Error(), "escapes from parent"):
		return structs.BadRequest(fmt.Errorf("path %q leaves the allocation directory", path))
	}
	return err
}

// StatFile describes one file of the allocation's directory.
func (c *Client) StatFile(allocID, path string) (*structs.AllocFileInfo, error) {
	rel, err := allocPath(path)
	if err != nil {
		return nil, err
	}
	root, err := c.openAllocRoot(allocID)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fi, err := root.Stat(rel)
	if err != nil {
		return nil, fsError(path, err)
	}
	return structs.FileInfoOf(fi), nil
}

// ListDir lists a directory of the allocation's directory, by name.
func (c *Client) ListDir(allocID, path string) ([]*structs.AllocFileInfo, error) {
	rel, err := allocPath(path)
	if err != nil {
		return nil, err
	}
	root, err := c.openAllocRoot(allocID)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		return nil, fsError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, structs.BadRequest(fmt.Errorf("path %q is a file, not a directory", path))
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	out := make([]*structs.AllocFileInfo, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, structs.FileInfoOf(info))
	}
	slices.SortFunc(out, func(a, b *structs.AllocFileInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// OpenFile opens a regular file of the allocation's directory for reading.
func (c *Client) OpenFile(allocID, path string) (io.ReadCloser, *structs.AllocFileInfo, error) {
	rel, err := allocPath(path)
	if err != nil {
		return nil, nil, err
	}
	root, err := c.openAllocRoot(allocID)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		return nil, nil, fsError(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, nil, structs.BadRequest(fmt.Errorf("path %q is a directory: list it instead", path))
	}
	return f, structs.FileInfoOf(fi), nil
}
