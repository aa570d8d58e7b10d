package command

import sys "golang.org/x/sys/unix"

// isTerminalFd reports whether fd is a terminal.
func isTerminalFd(fd int) bool {
	_, err := sys.IoctlGetTermios(fd, sys.TCGETS)
	return err == nil
}

// makeRaw puts the terminal in raw mode (as cfmakeraw does) and returns
// what restores it.
func makeRaw(fd int) (func(), error) {
	t, err := sys.IoctlGetTermios(fd, sys.TCGETS)
	if err != nil {
		return nil, err
	}
	old := *t
	t.Iflag &^= sys.IGNBRK | sys.BRKINT | sys.PARMRK | sys.ISTRIP | sys.INLCR | sys.IGNCR | sys.ICRNL | sys.IXON
	t.Oflag &^= sys.OPOST
	t.Lflag &^= sys.ECHO | sys.ECHONL | sys.ICANON | sys.ISIG | sys.IEXTEN
	t.Cflag &^= sys.CSIZE | sys.PARENB
	t.Cflag |= sys.CS8
	t.Cc[sys.VMIN], t.Cc[sys.VTIME] = 1, 0
	if err := sys.IoctlSetTermios(fd, sys.TCSETS, t); err != nil {
		return nil, err
	}
	return func() { _ = sys.IoctlSetTermios(fd, sys.TCSETS, &old) }, nil
}

// terminalSize returns the terminal's rows and columns.
func terminalSize(fd int) (int, int, error) {
	ws, err := sys.IoctlGetWinsize(fd, sys.TIOCGWINSZ)
	if err != nil {
		return 0, 0, err
	}
	return int(ws.Row), int(ws.Col), nil
}
