//go:build !unix

package proxy

import "net"

// stillOpen cannot peek here: a connection the instance closed fails on
// use, and an idempotent request is then retried.
func stillOpen(net.Conn) bool { return true }

// readWaiter cannot wait without reading here: pipe reads as usual.
type readWaiter struct{}

func newReadWaiter(net.Conn) *readWaiter { return nil }

func (*readWaiter) wait() {}
