//go:build !unix

package demoimage

// lockFile is a no-op where flock does not exist: concurrent callers may
// then both build an image, which is wasteful but harmless.
func lockFile(string) (func(), error) { return func() {}, nil }
