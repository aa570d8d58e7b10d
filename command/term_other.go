//go:build !linux

package command

import "errors"

func isTerminalFd(int) bool { return false }

func makeRaw(int) (func(), error) {
	return nil, errors.New("terminals are supported on Linux only")
}

func terminalSize(int) (int, int, error) {
	return 0, 0, errors.New("terminals are supported on Linux only")
}
