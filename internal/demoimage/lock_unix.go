//go:build unix

package demoimage

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path, blocking until it is
// free. `go test ./...` runs many test binaries at once and each may call
// Ensure from TestMain; the lock makes the first one build and the others
// find the images ready, instead of all of them importing the same tags.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}
