//go:build unix

package proxy

import (
	"net"
	"syscall"
)

// stillOpen tells whether an idle connection can be used: the instance
// has neither closed it nor sent anything unasked. It peeks without
// blocking, one system call.
func stillOpen(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && open
}

// readWaiter waits until a connection has something to read: data, its
// end or an error (or the connection was closed: the read then says so).
// It holds no buffer meanwhile, so that a connection idle for hours costs
// no memory but its own.
type readWaiter struct {
	raw    syscall.RawConn
	looked bool
	buf    [1]byte
	ready  func(fd uintptr) bool // w.readable, bound once
}

// newReadWaiter returns nil when conn cannot be waited on this way.
func newReadWaiter(conn net.Conn) *readWaiter {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	w := &readWaiter{raw: raw}
	w.ready = w.readable
	return w
}

func (w *readWaiter) wait() {
	w.looked = false
	_ = w.raw.Read(w.ready) // an error (closed) is the caller's read's to report
}

// readable is asked first, then after each wake-up. The first look
// peeks, because what came before the wait began is not signalled again;
// after a wake-up the connection is readable (a spurious one only makes
// the caller's read wait).
func (w *readWaiter) readable(fd uintptr) bool {
	if w.looked {
		return true
	}
	w.looked = true
	_, _, err := syscall.Recvfrom(int(fd), w.buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
}
