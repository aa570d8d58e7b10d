// Command podprobe is the second container of the task-group tests: it
// does what its flags say inside a group's shared network and directories,
// writes what it saw to a file, then waits to be stopped, so a service
// task stays running.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	write := flag.String("write", "", "write the text of -text to this file first")
	text := flag.String("text", "hello", "what -write writes")
	waitFile := flag.String("wait-file", "", "wait until this file exists and report its content")
	get := flag.String("get", "", "GET this URL until it answers and report the body")
	read := flag.String("read", "", "report the content of this file")
	tryWrite := flag.String("try-write", "", "try to create this file and report the result")
	out := flag.String("out", "", "where to write the report (stdout too)")
	flag.Parse()

	var report []string
	add := func(format string, args ...any) { report = append(report, fmt.Sprintf(format, args...)) }
	if *write != "" {
		if err := os.WriteFile(*write, []byte(*text), 0o644); err != nil {
			add("write error: %v", err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	if *waitFile != "" {
		for {
			b, err := os.ReadFile(*waitFile)
			if err == nil {
				add("file=%s", b)
				break
			}
			if time.Now().After(deadline) {
				add("file error: %v", err)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if *get != "" {
		c := http.Client{Timeout: 2 * time.Second}
		for {
			body, err := fetch(&c, *get)
			if err == nil {
				add("body=%s", strings.TrimSpace(body))
				break
			}
			if time.Now().After(deadline) {
				add("get error: %v", err)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if *read != "" {
		b, err := os.ReadFile(*read)
		if err != nil {
			add("read error: %v", err)
		} else {
			add("read=%s", b)
		}
	}
	if *tryWrite != "" {
		err := os.WriteFile(*tryWrite, []byte("x"), 0o644)
		switch {
		case err == nil:
			add("try-write=ok")
		case errors.Is(err, syscall.EROFS):
			add("try-write=read-only")
		default:
			add("try-write error: %v", err)
		}
	}
	result := strings.Join(report, "\n") + "\n"
	fmt.Print(result)
	if *out != "" {
		// Written whole, then renamed, so a reader never sees half a report.
		if err := os.WriteFile(*out+".tmp", []byte(result), 0o644); err == nil {
			os.Rename(*out+".tmp", *out)
		}
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

func fetch(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
