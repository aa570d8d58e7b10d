//go:build !linux

package raftlog

import (
	"errors"
	"os"
)

func fdatasync(f *os.File) error { return f.Sync() }

func preallocate(*os.File, int64, int64) error {
	return errors.New("preallocation is not supported on this system")
}
