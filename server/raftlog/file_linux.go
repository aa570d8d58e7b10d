//go:build linux

package raftlog

import (
	"errors"
	"os"
	"syscall"
)

// fdatasync flushes f's data and the metadata needed to read it back (its
// size), not its timestamps: one device flush when the size is unchanged.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// preallocate reserves [off, off+n) of f as zero-filled space, so that the
// appends that follow do not grow the file: their fdatasync then has no
// size change to commit to the file system's journal.
func preallocate(f *os.File, off, n int64) error {
	for {
		err := syscall.Fallocate(int(f.Fd()), 0, off, n)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
