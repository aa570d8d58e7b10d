package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Subcommands make the image useful for short tasks and `alloc exec`,
// since it holds nothing but /app. With arguments the app runs one of
// these instead of serving:
//
//	/app echo WORDS...       print the words and exit 0
//	/app exit N              exit with code N
//	/app sleep DURATION      sleep, then exit 0
//	/app cat FILE            print a file
//	/app write FILE TEXT...  write the words to a file (a line)
//	/app env                 print the environment, sorted as given
//	/app lookup NAME         print the addresses NAME resolves to, one a line
//
// The image's entrypoint is /app, so a job's `args = ["echo", "hi"]`
// runs one, and so does `drover alloc exec ALLOC /app echo hi`.
func subcommand(args []string, stdout, stderr io.Writer) int {
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "drover-demo: "+format+"\n", a...)
		return 2
	}
	switch args[0] {
	case "echo":
		fmt.Fprintln(stdout, strings.Join(args[1:], " "))
		return 0
	case "exit":
		if len(args) != 2 {
			return usage("usage: exit N")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return usage("exit: %v", err)
		}
		return n
	case "sleep":
		if len(args) != 2 {
			return usage("usage: sleep DURATION")
		}
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return usage("sleep: %v", err)
		}
		time.Sleep(d)
		return 0
	case "cat":
		if len(args) != 2 {
			return usage("usage: cat FILE")
		}
		data, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "drover-demo: %v\n", err)
			return 1
		}
		_, _ = stdout.Write(data)
		return 0
	case "write":
		if len(args) < 2 {
			return usage("usage: write FILE TEXT...")
		}
		if err := os.WriteFile(args[1], []byte(strings.Join(args[2:], " ")+"\n"), 0o644); err != nil {
			fmt.Fprintf(stderr, "drover-demo: %v\n", err)
			return 1
		}
		return 0
	case "env":
		for _, kv := range os.Environ() {
			fmt.Fprintln(stdout, kv)
		}
		return 0
	case "lookup":
		if len(args) != 2 {
			return usage("usage: lookup NAME")
		}
		addrs, err := net.LookupHost(args[1])
		if err != nil {
			fmt.Fprintf(stderr, "drover-demo: %v\n", err)
			return 1
		}
		for _, a := range addrs {
			fmt.Fprintln(stdout, a)
		}
		return 0
	}
	return usage("unknown subcommand %q (want echo, exit, sleep, cat, write, env or lookup)", args[0])
}

// logHangups logs each SIGHUP until ctx ends or the returned stop is called.
func logHangups(ctx context.Context, stdout io.Writer) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				fmt.Fprintln(stdout, "drover-demo: SIGHUP received")
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
